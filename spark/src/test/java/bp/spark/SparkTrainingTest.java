package bp.spark;

import bp.cli.Main;
import bp.data.DataSources;
import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training on Spark gives the local trainer's model, bit for bit: in local mode (executor threads
 * in this JVM) and in local-cluster mode (two executor JVMs started from a Spark home assembled
 * from Maven's jars).
 */
class SparkTrainingTest {

    static Network network() {
        return Network.builder(64).dense(48, Activation.RELU).dense(10, Activation.SOFTMAX).seed(5).build();
    }

    static Trainer.Builder settings(int batch, int shard) {
        return Trainer.builder().epochs(2).batchSize(batch).shardSize(shard).optimizer(Optimizer.adam(0.003)).seed(7);
    }

    /** Same bits as the local trainer for several batch / shard / task counts, in local[2]. */
    @Test
    void localModeTrainsTheLocalTrainersBits() {
        Dataset digits = DataSources.digits().train();
        try (JavaSparkContext spark = new JavaSparkContext(SparkLaunch.conf("local[2]", "bp test"))) {
            int[][] cases = {{128, 32, 2}, {100, 16, 3}, {64, 64, 2}, {4, 2, 2}};
            for (int[] c : cases) {
                Network local = network();
                List<EpochStats> a = settings(c[0], c[1]).build().fit(local, digits, null);
                Network remote = network();
                List<EpochStats> b = settings(c[0], c[1]).gradientSource(new SparkGradientSource(spark, c[2])).build()
                        .fit(remote, digits, null);
                String name = "batch " + c[0] + ", shard " + c[1] + ", " + c[2] + " tasks";
                assertArrayEquals(local.parameters(), remote.parameters(), name);
                assertEquals(a.get(1).trainLoss(), b.get(1).trainLoss(), name);
            }
        }
    }

    /** bp spark-train writes the same model file as bp train with the same options. */
    @Test
    void sparkTrainWritesBpTrainsModel(@TempDir Path dir) throws IOException {
        String[] options = {"--data", "digits", "--layers", "64,32,10", "--epochs", "2", "--batch", "64",
                "--threads", "2", "--quiet"};
        Path local = dir.resolve("local.safetensors");
        Path spark = dir.resolve("spark.safetensors");
        assertEquals(0, run(false, options, "train", "--save", local.toString()));
        assertEquals(0, run(true, options, "spark-train", "--master", "local[2]", "--save", spark.toString()));
        assertArrayEquals(Files.readAllBytes(local), Files.readAllBytes(spark));
    }

    /** Local SGD (averaging every 4 steps) learns the digits about as well as the local trainer does. */
    @Test
    void localSgdLearnsTheDigits() {
        DataSources.TrainTest digits = DataSources.digits();
        try (JavaSparkContext spark = new JavaSparkContext(SparkLaunch.conf("local[2]", "bp test"))) {
            Trainer trainer = Trainer.builder().epochs(5).batchSize(32).optimizer(Optimizer.adam(0.01)).seed(3).build();
            List<EpochStats> h = new LocalSgd(spark, 2, 4).fit(trainer, network(), digits.train(), digits.test());
            assertEquals(5, h.size());
            double local = trainer.fit(network(), digits.train(), digits.test()).get(4).testAccuracy();
            assertEquals(local, h.get(4).testAccuracy(), 0.03, "test accuracy of local SGD against the local trainer's");
            assertTrue(h.get(4).testAccuracy() >= 0.92, "test accuracy " + h.get(4).testAccuracy());
            assertTrue(h.get(4).trainLoss() < h.get(0).trainLoss() / 3, "train loss " + h);
        }
        StringWriter err = new StringWriter();
        int status = SparkMain.run(new String[] {"spark-train", "--master", "local[1]", "--data", "digits", "--mode",
                "local-sgd", "--val-split", "0.2"}, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(2, status);
        assertTrue(err.toString().contains("--mode local-sgd trains without --val-split"), err.toString());
    }

    /** Two executor JVMs (local-cluster mode): the same bits again, so nothing depends on sharing a JVM. */
    @Test
    void separateExecutorJvmsTrainTheSameBits() throws IOException {
        Path home = Path.of(System.getProperty("bp.spark.home"));
        // SPARK_HOME (set by the build) is Maven's jars; Spark's launcher takes jars/ when RELEASE exists
        if (!Files.exists(home.resolve("RELEASE"))) {
            Files.writeString(home.resolve("RELEASE"), "Spark assembled from Maven for bp's tests\n");
        }
        Dataset digits = DataSources.digits().train();
        SparkConf conf = SparkLaunch.conf("local-cluster[2,1,1024]", "bp test")
                .set("spark.executor.extraClassPath", System.getProperty("bp.spark.appClasspath"));
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            Network local = network();
            settings(128, 32).build().fit(local, digits, null);
            Network remote = network();
            settings(128, 32).gradientSource(new SparkGradientSource(spark, 2)).build().fit(remote, digits, null);
            assertArrayEquals(local.parameters(), remote.parameters());
            List<String> executors = spark.parallelize(List.of(1, 2, 3, 4), 4)
                    .map(x -> String.valueOf(ProcessHandle.current().pid())).distinct().collect();
            assertTrue(executors.size() >= 1 && !executors.contains(String.valueOf(ProcessHandle.current().pid())),
                    "tasks ran in this JVM: " + executors);
        }
    }

    /**
     * A JVM without {@code --add-modules jdk.incubator.vector} (Spark 4.2's launcher adds it to
     * executors, older ones and hand-made launches may not): in local mode the driver is the
     * executor; it says once that it computes with the scalar kernels, and trains.
     */
    @Test
    void aJvmWithoutTheVectorApiFallsBackToScalarKernels() throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : System.getProperty("bp.spark.jvmFlags").split(" ")) {
            if (!flag.isBlank() && !flag.contains("jdk.incubator.vector") && !flag.equals("--add-modules")) {
                command.add(flag);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "-Dbp.data.dir=" + System.getProperty("bp.data.dir"),
                "bp.spark.SparkMain", "spark-train", "--master", "local[1]", "--data", "digits", "--layers", "64,32,10",
                "--epochs", "5", "--batch", "32", "--lr", "0.01", "--quiet"));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertEquals(0, p.waitFor(), out + err);
        assertEquals(1, err.lines().filter(l -> l.contains("bp uses scalar kernels")).count(), err);
        assertTrue(out.matches("(?s).*test accuracy (9\\d|100)\\.\\d\\d%.*"), out);
    }

    private static int run(boolean spark, String[] options, String... command) {
        String[] args = new String[command.length + options.length];
        System.arraycopy(command, 0, args, 0, command.length);
        System.arraycopy(options, 0, args, command.length, options.length);
        StringWriter err = new StringWriter();
        PrintWriter out = new PrintWriter(new StringWriter());
        int status = spark ? SparkMain.run(args, out, new PrintWriter(err)) : Main.run(args, out, new PrintWriter(err));
        assertEquals("", err.toString().lines().filter(l -> l.startsWith("bp:")).findFirst().orElse(""));
        return status;
    }
}
