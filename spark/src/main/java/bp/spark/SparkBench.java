package bp.spark;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code spark/run bench [batch]}: one Fashion-MNIST epoch of 784-512-256-10 (ReLU, softmax
 * cross-entropy, SGD 0.1) with the local trainer, then on Spark with 1 executor of 2 cores and 2
 * executors of 1 core (local-cluster: separate JVMs on this machine), synchronous and local SGD.
 * Each figure is an epoch after the first, so that the JIT has compiled the kernels everywhere: the
 * second of two for the runs from the driver's data, the median of epochs 2 to 4 for the others.
 * Then the same data from Parquet, on 2 executors of 1 core: the all-reduce and local SGD (K = 32)
 * on rows that stay on the executors, against the local trainer ({@code spark/run bench parquet}
 * runs only this part).
 */
public final class SparkBench {

    private SparkBench() {
    }

    public static void main(String[] args) throws IOException {
        boolean parquetOnly = args.length > 0 && args[0].equals("parquet");
        int batch = args.length > 0 && !parquetOnly ? Integer.parseInt(args[0]) : 128;
        boolean syncOnly = args.length > 1 && args[1].equals("sync");
        DataSources.TrainTest data = DataSources.load("fashion-mnist");
        Dataset train = data.train();
        Network shape = network();
        System.out.printf(Locale.ROOT, "spark bench: %s, batch %d, %d train rows; %d bytes of parameters, so a sync step "
                        + "moves 2 × %d B per task%n", shape.describe(), batch, train.size(), 4L * shape.parameterCount(),
                4L * shape.parameterCount());
        double local = report("local trainer, 2 threads", run(null, 0, 0, batch, data, STEADY_EPOCHS));
        if (!parquetOnly) {
            fromTheDriver(data, batch, syncOnly, local);
        }
        if (!syncOnly) {
            fromParquet(data, batch, local);
        }
    }

    private static void fromTheDriver(DataSources.TrainTest data, int batch, boolean syncOnly, double local) {
        for (String master : syncOnly ? new String[] {"local-cluster[2,1,3072]"}
                : new String[] {"local-cluster[1,2,3072]", "local-cluster[2,1,3072]"}) {
            SparkConf conf = SparkLaunch.conf(master, "bp bench")
                    .set("spark.executor.extraClassPath", System.getProperty("bp.spark.jar"));
            try (JavaSparkContext spark = new JavaSparkContext(conf)) {
                spark.setLogLevel("WARN");
                int places = 2;
                double sync = report(master + " sync", run(spark, places, 0, batch, data, 2));
                System.out.printf(Locale.ROOT, "  ratio sync/local %.2f%n", sync / local);
                for (int k : syncOnly ? new int[0] : new int[] {8, 32}) {
                    double r = report(master + " local SGD K=" + k, run(spark, places, k, batch, data, 2));
                    System.out.printf(Locale.ROOT, "  ratio local-sgd/local %.2f%n", r / local);
                }
            }
        }
    }

    /** The all-reduce and local SGD on Fashion-MNIST from Parquet, on 2 executor JVMs of 1 core. */
    private static void fromParquet(DataSources.TrainTest data, int batch, double localBefore) throws IOException {
        Path dir = Files.createTempDirectory("bp-bench-parquet");
        SparkConf conf = SparkLaunch.conf("local-cluster[2,1,3072]", "bp bench")
                .set("spark.executor.extraClassPath", System.getProperty("bp.spark.jar"));
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            spark.sparkContext().setLogLevel("WARN");
            ConvertCommand.write(spark, data.train(), dir.resolve("train"), 4);
            ConvertCommand.write(spark, data.test(), dir.resolve("test"), 4);
            Trainer trainer = recipe(batch, STEADY_EPOCHS).build();
            try (ParquetRows train = ParquetRows.read(spark, dir.resolve("train").toString(),
                    ParquetRows.Columns.DEFAULT, 2, 10);
                 ParquetRows test = ParquetRows.read(spark, dir.resolve("test").toString(),
                         ParquetRows.Columns.DEFAULT, 2, 10)) {
                double allReduce = report("parquet, 2 executors, all-reduce",
                        new BpSpark(spark).places(2).allReduce().fit(trainer, network(), train, test));
                double localSgd = report("parquet, 2 executors, local SGD K=32",
                        new BpSpark(spark).places(2).syncEvery(32).fit(trainer, network(), train, test));
                // the machine's speed drifts over a minute by more than the ratios' margins (the local
                // trainer measured 56-113 k samples/s from run to run): the reference is its mean
                // before and after the runs it is compared with
                double localAfter = report("local trainer, 2 threads, again",
                        run(null, 0, 0, batch, data, STEADY_EPOCHS));
                double local = (localBefore + localAfter) / 2;
                System.out.printf(Locale.ROOT, "spark ratio allreduce/local executors=2 batch=%d: %.2f%n", batch,
                        allReduce / local);
                System.out.printf(Locale.ROOT, "spark ratio local-sgd/local executors=2 K=32: %.2f%n",
                        localSgd / local);
                new ScalingModel(local, allReduce, batch, 4L * network().parameterCount()).print(System.out);
            }
        } finally {
            spark.stop();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /**
     * Epochs of the runs compared in the ratio lines: the median of the last three is measured, as
     * one epoch here lasts under a second and the machines are noisy.
     */
    private static final int STEADY_EPOCHS = 4;

    private static Network network() {
        return Network.builder(784).dense(512, Activation.RELU).dense(256, Activation.RELU)
                .dense(10, Activation.SOFTMAX).seed(1).build();
    }

    /** What every run of the bench trains with: SGD 0.1, seed 1. */
    private static Trainer.Builder recipe(int batch, int epochs) {
        return Trainer.builder().epochs(epochs).batchSize(batch).optimizer(Optimizer.sgd(0.1)).seed(1);
    }

    /** {@code epochs} epochs; {@code syncEvery} 0 is synchronous training. */
    private static List<EpochStats> run(JavaSparkContext spark, int places, int syncEvery, int batch,
                                        DataSources.TrainTest d, int epochs) {
        Network net = network();
        Trainer trainer = recipe(batch, epochs).threads(2)
                .gradientSource(spark == null || syncEvery > 0 ? null : new SparkGradientSource(spark, places)).build();
        return syncEvery > 0 ? new LocalSgd(spark, places, syncEvery).fit(trainer, net, d.train(), d.test())
                : trainer.fit(net, d.train(), d.test());
    }

    /** Prints and returns the median speed of the epochs after the first (which the JIT slows). */
    private static double report(String what, List<EpochStats> history) {
        List<EpochStats> steady = new java.util.ArrayList<>(history.subList(1, history.size()));
        steady.sort(java.util.Comparator.comparingDouble(EpochStats::samplesPerSecond));
        EpochStats s = steady.get(steady.size() / 2);
        System.out.printf(Locale.ROOT, "%-40s %8.0f samples/s  epoch %.1f s (the first %.1f s)  test accuracy after %d "
                + "epochs %.2f%%%n", what, s.samplesPerSecond(), s.seconds(), history.get(0).seconds(), history.size(),
                100 * history.get(history.size() - 1).testAccuracy());
        return s.samplesPerSecond();
    }
}
