package bp.spark;

import bp.cli.Main;
import bp.cli.TrainCommand;
import bp.data.Dataset;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

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
                "  spark-submit --class bp.spark.SparkMain bp-spark.jar \\",
                "      spark-train --data fashion-mnist --places 4"})
final class SparkTrainCommand extends TrainCommand {

    @Option(names = "--master", paramLabel = "URL", description = "Spark master URL, e.g. local[2], spark://host:7077, "
            + "local-cluster[2,1,1024] (default: spark.master from spark-submit, else local[*]).")
    String master;

    @Option(names = "--places", paramLabel = "N", description = "Tasks per mini-batch, at most one per group of shards (default: the "
            + "cluster's default parallelism, e.g. its executor cores).")
    Integer places;

    @Option(names = "--mode", paramLabel = "sync|local-sgd", defaultValue = "sync", description = "sync: one Spark job per mini-batch, the local "
            + "trainer's model bit for bit; local-sgd: each task takes --sync-every steps on its own share of the data, "
            + "then the driver averages the networks (fewer jobs, another model) (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--sync-every", defaultValue = "8", paramLabel = "K",
            description = "With --mode local-sgd: mini-batch steps per task between averages (default: ${DEFAULT-VALUE}).")
    int syncEvery;

    private JavaSparkContext spark;

    @Override
    protected List<EpochStats> fit(Trainer.Builder settings, Network net, Dataset train, Dataset validation,
                                   Dataset test) {
        int places = places();
        if (!quiet()) {
            PrintWriter out = out();
            out.printf(Locale.ROOT, "bp: Spark %s, master %s, %s%n", spark.version(), spark.master(), localSgd()
                    ? "local SGD on " + places + " tasks, averaged every " + syncEvery + " steps"
                    : places + " tasks per mini-batch at most");
            out.flush();
        }
        if (localSgd()) {
            return new LocalSgd(spark, places, syncEvery).fit(settings.build(), net, train, test);
        }
        return settings.gradientSource(new SparkGradientSource(spark, places)).build().fit(net, train, validation, test);
    }

    private boolean localSgd() {
        return mode.equals("local-sgd");
    }

    private int places() {
        return places != null ? places : spark.defaultParallelism();
    }

    @Override
    public Integer call() {
        if (places != null && places < 1) {
            throw new Main.UsageError("--places must be at least 1, not " + places);
        }
        if (!mode.equals("sync") && !mode.equals("local-sgd")) {
            throw new Main.UsageError("--mode " + mode + ": expected sync or local-sgd");
        }
        if (localSgd()) {
            if (syncEvery < 1) {
                throw new Main.UsageError("--sync-every must be at least 1, not " + syncEvery);
            }
            if (Stream.of("--val-split", "--patience", "--checkpoint", "--resume", "--clip-norm").anyMatch(this::given)) {
                throw new Main.UsageError("--mode local-sgd trains without --val-split, --patience, --checkpoint, "
                        + "--resume and --clip-norm; use --mode sync for them");
            }
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
