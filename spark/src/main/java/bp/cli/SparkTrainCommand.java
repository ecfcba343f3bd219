package bp.cli;

import bp.spark.SparkGradientSource;
import bp.train.GradientSource;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * {@code bp spark-train}: {@code bp train} with the mini-batch gradients computed on Spark
 * executors. Every option of {@code bp train} works the same way; the progress, metrics,
 * checkpoints and the saved model are the driver's.
 */
@Command(name = "spark-train", mixinStandardHelpOptions = true,
        description = {"Trains like 'bp train', with each mini-batch's gradient computed on Apache Spark: the "
                + "driver broadcasts the parameters, the executors compute aligned blocks of the batch's shards with "
                + "bp's kernels, the driver adds them in a fixed order and applies the optimizer. The model is "
                + "bit-for-bit the one 'bp train' makes with the same options when the executors use the same "
                + "kernels as a local run. Every option of 'bp train' applies."},
        footer = {"", "Examples:", "  spark/run spark-train --master local[2] --data digits --epochs 10",
                "  spark-submit --class bp.cli.SparkMain bp-spark.jar spark-train --data fashion-mnist --places 4"})
final class SparkTrainCommand extends TrainCommand {

    @Option(names = "--master", description = "Spark master URL, e.g. local[2], spark://host:7077, "
            + "local-cluster[2,1,1024] (default: spark.master from spark-submit, else local[*]).")
    String master;

    @Option(names = "--places", description = "Tasks per mini-batch, at most one per group of shards (default: the "
            + "cluster's default parallelism, e.g. its executor cores).")
    Integer places;

    private JavaSparkContext spark;

    @Override
    GradientSource gradientSource() {
        int n = places != null ? places : spark.defaultParallelism();
        PrintWriter out = spec.commandLine().getOut();
        if (!quiet) {
            out.printf(Locale.ROOT, "bp: Spark %s, master %s, %d tasks per mini-batch at most%n", spark.version(),
                    spark.master(), n);
            out.flush();
        }
        return new SparkGradientSource(spark, n);
    }

    @Override
    public Integer call() {
        if (places != null && places < 1) {
            throw new Main.UsageError("--places must be at least 1, not " + places);
        }
        SparkConf conf = SparkLaunch.conf(master, "bp spark-train");
        spark = new JavaSparkContext(conf);
        spark.setLogLevel(System.getProperty("bp.spark.logLevel", "WARN")); // the progress lines stay readable
        try {
            return super.call();
        } finally {
            spark.close();
        }
    }
}
