package bp.spark;

import org.apache.spark.SparkConf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The Spark settings bp needs, whoever starts the driver. */
public final class SparkLaunch {

    /**
     * The JVM flags of executors (and of a driver started by spark-submit): the Vector API (an
     * executor without it falls back to the scalar kernels with one warning) and the
     * {@code --add-opens} Spark needs on JDK 17 and later: bp's
     * {@code tools/jvm.flags} and the pom's {@code spark.own.flags}, which the tests and spark/run use too.
     */
    public static final String EXECUTOR_FLAGS = readFlags();

    private static String readFlags() {
        try (InputStream in = SparkLaunch.class.getResourceAsStream("jvm-flags.txt")) {
            if (in == null) {
                throw new IllegalStateException("bp-spark.jar lacks bp/spark/jvm-flags.txt");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private SparkLaunch() {
    }

    /**
     * A configuration for {@code master} (null: spark-submit's, else {@code local[*]}) with the UI
     * off, and the executor flags and the kernels' warm-up ({@link KernelWarmupPlugin}) added to
     * whatever the user set.
     */
    public static SparkConf conf(String master, String appName) {
        SparkConf conf = new SparkConf().setAppName(appName).setIfMissing("spark.ui.enabled", "false")
                .setIfMissing("spark.master", "local[*]")
                // a step's gradient (2 MB for 784-512-256-10) comes back in the task's answer, not by a block fetch
                .setIfMissing("spark.task.maxDirectResultSize", "256m")
                // a barrier stage that cannot get its slots fails after 2 checks 15 s apart, not 40
                .setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "2");
        if (master != null) {
            conf.setMaster(master);
        }
        String plugins = conf.get("spark.plugins", "");
        if (!plugins.contains(KernelWarmupPlugin.class.getName())) {
            conf.set("spark.plugins", plugins.isEmpty() ? KernelWarmupPlugin.class.getName()
                    : plugins + "," + KernelWarmupPlugin.class.getName());
        }
        String mine = conf.get("spark.executor.extraJavaOptions", "");
        if (!mine.contains("jdk.incubator.vector")) {
            conf.set("spark.executor.extraJavaOptions", (mine + " " + EXECUTOR_FLAGS).trim());
        }
        return conf;
    }
}
