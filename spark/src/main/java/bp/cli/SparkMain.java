package bp.cli;

import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * The entry point of bp-spark.jar: every {@code bp} command plus {@code spark-train}, e.g.
 * {@code spark-submit --class bp.cli.SparkMain bp-spark.jar spark-train --data digits}.
 */
public final class SparkMain {

    private SparkMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit status (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = Main.commandLine(out, err);
        cl.addSubcommand("spark-train", new SparkTrainCommand());
        cl.setOut(out); // reaches the command just added
        cl.setErr(err);
        return cl.execute(args);
    }
}
