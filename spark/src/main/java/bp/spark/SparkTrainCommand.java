package bp.spark;

import bp.cli.Main;
import bp.cli.TrainCommand;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Rows;
import bp.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code bp spark-train}: {@code bp train} on Apache Spark. With bp's data options, the driver
 * reads the data and each mini-batch's gradient is computed on the executors (sync, the local
 * model bit for bit) or the executors run local SGD on shares of it; with {@code --parquet}, the
 * rows stay on the executors and local SGD trains there. The progress, metrics, checkpoints and
 * the saved model are the driver's.
 */
@Command(name = "spark-train", mixinStandardHelpOptions = true,
        description = {"Trains like 'bp train', on Apache Spark. --mode sync: each mini-batch's gradient is computed "
                + "on the executors (the driver broadcasts the parameters, the executors compute aligned blocks of the "
                + "batch's shards, the driver adds them in a fixed order and applies the optimizer): the model is "
                + "bit-for-bit the one 'bp train' makes with the same options. --mode local-sgd: each share of the "
                + "rows trains a model of its own for --sync-every steps, then the models and the optimizer's state "
                + "are averaged. --parquet DIR reads DIR/train (and DIR/test) on the executors, where the rows "
                + "stay: the data never passes through the driver, and the run is one barrier stage whose tasks "
                + "average the models (local-sgd) or add every step's gradient (allreduce) among themselves; "
                + "--checkpoint-every N makes the driver keep the state every N steps, and an epoch that loses an "
                + "executor starts again from there. Every option of 'bp train' applies, except those that need the "
                + "rows on the driver."},
        footer = {"", "Examples:", "  spark/run spark-train --master local[2] --data digits --epochs 10",
                "  spark/run convert --data fashion-mnist --out /tmp/fashion",
                "  spark/run spark-train --master local[2] --parquet /tmp/fashion --mode local-sgd",
                "  spark-submit --class bp.spark.SparkMain bp-spark.jar \\",
                "      spark-train --parquet hdfs:///data/fashion --mode local-sgd --places 16"})
final class SparkTrainCommand extends TrainCommand {

    @Option(names = "--master", paramLabel = "URL", description = "Spark master URL, e.g. local[2], spark://host:7077, "
            + "local-cluster[2,1,1024] (default: spark.master from spark-submit, else local[*]).")
    String master;

    @Option(names = "--places", paramLabel = "N", description = "Tasks per mini-batch, at most one per group of "
            + "shards (sync), shares of the rows (local-sgd), or with --parquet the rows' virtual shards, on which "
            + "the model depends (the tasks are min(N, task slots)) (default: the cluster's default parallelism, "
            + "e.g. its executor cores).")
    Integer places;

    @Option(names = "--mode", paramLabel = "sync|local-sgd|allreduce", defaultValue = "sync", description = "sync: "
            + "one Spark job per mini-batch, the local trainer's model bit for bit; local-sgd: each share of the "
            + "data trains --sync-every steps, then the models and the optimizer state are averaged (another model, "
            + "far fewer exchanges); allreduce (with --parquet): every step's gradients are added, one model (with "
            + "--parquet, both are the same for any number of executors) (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--sync-every", defaultValue = "8", paramLabel = "K",
            description = "With --mode local-sgd: mini-batch steps of each share between averages (default: "
                    + "${DEFAULT-VALUE}).")
    int syncEvery;

    @Option(names = "--parquet", paramLabel = "PATH", description = "Train on the Parquet table PATH/train, and test "
            + "on PATH/test when it exists (as spark/run convert writes them), or on the table PATH itself when it "
            + "has no train/; read by the executors.")
    String parquet;

    @Option(names = "--test-parquet", paramLabel = "PATH", description = "With --parquet: the test table "
            + "(default: PATH/test when it exists).")
    String testParquet;

    @Option(names = "--features", paramLabel = "COL[,COL...]", defaultValue = "features", description = "With "
            + "--parquet: the column of feature arrays or Spark ML vectors, or several numeric columns (default: "
            + "${DEFAULT-VALUE}).")
    String featureColumns;

    @Option(names = "--label", paramLabel = "COL", description = "With --parquet: the integer class column "
            + "(default: label, unless --target is given).")
    String labelColumn;

    @Option(names = "--target", paramLabel = "COL[,COL...]", description = "With --parquet: regression; the column "
            + "of target arrays, or several numeric columns.")
    String targetColumns;

    private JavaSparkContext spark;
    private ParquetRows parquetTrain;
    private ParquetRows parquetTest;

    @Override
    protected Data data() {
        if (parquet == null) {
            return super.data();
        }
        SparkSession session = session();
        ParquetRows.Columns columns = targetColumns != null
                ? ParquetRows.Columns.regression(featureColumns, targetColumns)
                : ParquetRows.Columns.classification(featureColumns, labelColumn == null ? "label" : labelColumn);
        String trainPath = isDirectory(parquet + "/train") ? parquet + "/train" : parquet;
        String testPath = testParquet != null ? testParquet
                : trainPath.equals(parquet) || !isDirectory(parquet + "/test") ? null : parquet + "/test";
        parquetTrain = ParquetRows.read(session, trainPath, columns, places(), 0);
        parquetTest = testPath == null ? null
                : ParquetRows.read(session, testPath, columns, places(), parquetTrain.classes());
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("parquet", trainPath);
        description.put("rows", parquetTrain.size());
        return new Data(parquetTrain, null, parquetTest, description);
    }

    /** The SQL session around the run's Spark context. */
    private SparkSession session() {
        return SparkSession.builder().sparkContext(spark.sc()).getOrCreate();
    }

    /** Whether a path (local or on the cluster's file system) is a directory. */
    private boolean isDirectory(String path) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
            return p.getFileSystem(spark.hadoopConfiguration()).getFileStatus(p).isDirectory();
        } catch (java.io.IOException e) {
            return false; // FileNotFoundException among them: not there
        }
    }

    @Override
    protected List<EpochStats> fit(Trainer.Builder settings, Network net, Rows train, Rows validation, Rows test) {
        int places = places();
        if (!quiet()) {
            PrintWriter out = out();
            out.printf(Locale.ROOT, "bp: Spark %s, master %s, %s%n", spark.version(), spark.master(), localSgd()
                    ? "local SGD on " + places + " shares, averaged every " + syncEvery + " steps"
                    : mode.equals("allreduce") ? "all-reduce over " + places + " shards"
                    : places + " tasks per mini-batch at most");
            out.flush();
        }
        if (parquet != null) {
            PrintWriter out = out();
            BpSpark bp = new BpSpark(session()).places(places).syncEvery(syncEvery)
                    .checkpointEvery(checkpointEvery() == null ? 0 : checkpointEvery())
                    .notices(line -> {
                        out.println("bp: " + line);
                        out.flush();
                    });
            return (mode.equals("allreduce") ? bp.allReduce() : bp).fit(settings.build(), net, parquetTrain,
                    parquetTest);
        }
        if (localSgd()) {
            return new LocalSgd(spark, places, syncEvery).fit(settings.build(), net, train.local(),
                    test == null ? null : test.local());
        }
        return super.fit(settings.gradientSource(new SparkGradientSource(spark, places)), net, train, validation, test);
    }

    @Override
    protected boolean keepsCheckpoints() {
        return parquet != null;
    }

    private boolean localSgd() {
        return mode.equals("local-sgd");
    }

    private int places() {
        return places != null ? places : spark.defaultParallelism();
    }

    @Override
    public Integer call() {
        checkOptions();
        SparkConf conf = SparkLaunch.conf(master, "bp spark-train");
        // a session already running in this JVM (a test's, an application's) is used and left running
        boolean own = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        spark = JavaSparkContext.fromSparkContext(org.apache.spark.SparkContext.getOrCreate(conf));
        if (own) {
            spark.setLogLevel(System.getProperty("bp.spark.logLevel", "WARN")); // the progress lines stay readable
        }
        try {
            return super.call();
        } finally {
            if (parquetTrain != null) {
                parquetTrain.close();
            }
            if (parquetTest != null) {
                parquetTest.close();
            }
            if (own) {
                spark.close();
            }
        }
    }

    private void checkOptions() {
        if (places != null && places < 1) {
            throw new Main.UsageError("--places must be at least 1, not " + places);
        }
        if (!mode.equals("sync") && !mode.equals("local-sgd") && !mode.equals("allreduce")) {
            throw new Main.UsageError("--mode " + mode + ": expected sync, local-sgd or allreduce");
        }
        if (mode.equals("allreduce") && parquet == null) {
            throw new Main.UsageError("--mode allreduce trains on --parquet rows, which stay on the executors");
        }
        if (!mode.equals("sync")) {
            if (syncEvery < 1) {
                throw new Main.UsageError("--sync-every must be at least 1, not " + syncEvery);
            }
            if (Stream.of("--val-split", "--patience", "--checkpoint", "--resume", "--clip-norm").anyMatch(this::given)) {
                throw new Main.UsageError("--mode " + mode + " trains without --val-split, --patience, --checkpoint, "
                        + "--resume and --clip-norm; use --mode sync for them");
            }
        }
        if (parquet == null) {
            if (Stream.of("--test-parquet", "--features", "--label", "--target").anyMatch(this::given)) {
                throw new Main.UsageError("--test-parquet, --features, --label and --target go with --parquet");
            }
            return;
        }
        if (mode.equals("sync")) {
            throw new Main.UsageError("--parquet trains with --mode local-sgd or allreduce: the rows stay on the "
                    + "executors, and --mode sync needs them on the driver");
        }
        if (Stream.of("--data", "--train", "--test", "--normalize").anyMatch(this::given)) {
            throw new Main.UsageError("--parquet names the data: leave out --data, --train, --test and --normalize "
                    + "(bp scales features only for rows on the driver)");
        }
        if (labelColumn != null && targetColumns != null) {
            throw new Main.UsageError("--label is for classification, --target for regression: give one");
        }
    }
}
