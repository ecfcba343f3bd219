package bp.cli;

import org.apache.spark.SparkConf;

/** The Spark settings bp needs, whoever starts the driver. */
public final class SparkLaunch {

    /**
     * The JVM flags of executors (and of a driver started by spark-submit): the Vector API (an
     * executor without it falls back to the scalar kernels with one warning) and the
     * {@code --add-opens} Spark needs on JDK 17 and later.
     */
    public static final String EXECUTOR_FLAGS = String.join(" ",
            "--add-modules jdk.incubator.vector", "-XX:CompileCommand=quiet",
            "-XX:CompileCommand=dontinline,bp.kernel.VectorKernels::*",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
            "-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true");

    private SparkLaunch() {
    }

    /**
     * A configuration for {@code master} (null: spark-submit's, else {@code local[*]}) with the UI
     * off and the executor flags added to whatever the user set.
     */
    public static SparkConf conf(String master, String appName) {
        SparkConf conf = new SparkConf().setAppName(appName).setIfMissing("spark.ui.enabled", "false")
                .setIfMissing("spark.master", "local[*]")
                // a step's gradient (2 MB for 784-512-256-10) comes back in the task's answer, not by a block fetch
                .setIfMissing("spark.task.maxDirectResultSize", "256m");
        if (master != null) {
            conf.setMaster(master);
        }
        String mine = conf.get("spark.executor.extraJavaOptions", "");
        if (!mine.contains("jdk.incubator.vector")) {
            conf.set("spark.executor.extraJavaOptions", (mine + " " + EXECUTOR_FLAGS).trim());
        }
        return conf;
    }
}
