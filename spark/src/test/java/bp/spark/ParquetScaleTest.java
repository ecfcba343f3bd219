package bp.spark;

import bp.data.Dataset;
import bp.io.ModelFile;
import bp.nn.Activation;
import bp.nn.Network;
import bp.train.Optimizer;
import bp.train.Trainer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training set four times larger than the driver's heap: 512 MiB of features in Parquet, trained
 * by spark-train in a driver JVM of 128 MiB with two executor JVMs (local-cluster). The rows never
 * pass through the driver, and the model is as good as the local trainer's on a sample that fits.
 */
class ParquetScaleTest {

    private static final int FEATURES = 128;
    /** 2²⁰ rows × 128 floats × 4 bytes = 512 MiB of features. */
    private static final long ROWS = 1L << 20;

    /** Uniform features in [0, 1); the label says whether the first two add up to more than 1. */
    private static org.apache.spark.sql.Dataset<Row> rows(SparkSession spark, long from, long count, long seed) {
        Column[] xs = IntStream.range(0, FEATURES).mapToObj(i -> functions.rand(seed * 1000 + i).cast("float"))
                .toArray(Column[]::new);
        org.apache.spark.sql.Dataset<Row> features = spark.range(from, from + count, 1, 8)
                .select(functions.array(xs).as("features"));
        return features.withColumn("label", functions.when(functions.element_at(features.col("features"), 1)
                .plus(functions.element_at(features.col("features"), 2)).gt(1), 1).otherwise(0));
    }

    private static Dataset local(List<Row> rows) {
        float[] x = new float[rows.size() * FEATURES];
        int[] labels = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            List<Object> v = rows.get(r).getList(0);
            for (int j = 0; j < FEATURES; j++) {
                x[r * FEATURES + j] = (Float) v.get(j);
            }
            labels[r] = rows.get(r).getInt(1);
        }
        return Dataset.classification("sample", x, FEATURES, labels, 2);
    }

    @Test
    void aTableFourTimesTheDriversHeapTrainsOnTheExecutors(@TempDir Path dir) throws Exception {
        Dataset sample;
        Dataset test;
        SparkSession spark = SparkSession.builder().config(SparkLaunch.conf("local[2]", "bp test")).getOrCreate();
        try {
            spark.sparkContext().setLogLevel("ERROR");
            rows(spark, 0, ROWS, 1).write().parquet(dir.resolve("train").toString());
            rows(spark, 0, 20_000, 2).write().parquet(dir.resolve("test").toString());
            sample = local(spark.read().parquet(dir.resolve("train").toString()).limit(50_000).collectAsList());
            test = local(spark.read().parquet(dir.resolve("test").toString()).collectAsList());
        } finally {
            spark.stop();
        }

        Network here = Network.builder(FEATURES).dense(32, Activation.RELU).dense(2, Activation.SOFTMAX).seed(1).build();
        Trainer.builder().epochs(3).batchSize(256).optimizer(Optimizer.adam(0.003)).seed(1).build()
                .fit(here, sample, null);
        double localAccuracy = Trainer.evaluate(here, test).accuracy();

        Path home = Path.of(System.getProperty("bp.spark.home"));
        if (!Files.exists(home.resolve("RELEASE"))) {
            Files.writeString(home.resolve("RELEASE"), "Spark assembled from Maven for bp's tests\n");
        }
        Path model = dir.resolve("model.safetensors");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : System.getProperty("bp.spark.jvmFlags").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.addAll(List.of("-Xmx128m",
                // Spark keeps 300 MiB of a JVM's heap to itself unless told otherwise; this driver runs no tasks
                "-Dspark.testing.reservedMemory=0",
                "-Dspark.executor.extraClassPath=" + System.getProperty("bp.spark.appClasspath"),
                "-cp", System.getProperty("java.class.path"), "bp.spark.SparkMain", "spark-train",
                "--master", "local-cluster[2,1,1024]", "--parquet", dir.toString(), "--mode", "local-sgd",
                "--places", "8", "--sync-every", "16", "--layers", FEATURES + ",32,2", "--epochs", "1",
                "--batch", "256", "--optimizer", "adam", "--lr", "0.003", "--out", model.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains(ROWS + " train"), out);
        double sparkAccuracy = Trainer.evaluate(ModelFile.load(model), test).accuracy();
        System.out.printf("ParquetScaleTest: test accuracy %.4f from the executors' local SGD, %.4f from the local "
                + "trainer on a 50k sample%n", sparkAccuracy, localAccuracy);
        assertTrue(sparkAccuracy >= localAccuracy - 0.02, "Parquet on the executors " + sparkAccuracy
                + ", the local trainer on a sample " + localAccuracy + "\n" + out);
    }
}
