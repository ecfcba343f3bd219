package bp.spark;

import bp.cli.Main;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * The entry point of bp-spark.jar: every {@code bp} command plus {@code spark-train}, e.g.
 * {@code spark-submit --class bp.spark.SparkMain bp-spark.jar spark-train --data digits}.
 */
public final class SparkMain {

    private SparkMain() {
    }

    public static void main(String[] args) {
        // Spark logs some 40 INFO lines before bp's first: warnings only, unless --verbose or the user
        // configured log4j (under spark-submit, Spark has set up its log before this runs)
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        if (!verbose && System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:bp/spark/log4j2-quiet.properties");
        }
        if (verbose && System.getProperty("bp.spark.logLevel") == null) {
            System.setProperty("bp.spark.logLevel", "INFO");
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit status (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = Main.commandLine(out, err);
        cl.addSubcommand("spark-train", new SparkTrainCommand());
        cl.addSubcommand("convert", new ConvertCommand());
        Main.withVersion(cl);
        cl.setOut(out); // reaches the command just added
        cl.setErr(err);
        return cl.execute(args);
    }
}
