package bp.spark;

import bp.cli.Main;
import bp.data.DataSources;
import bp.data.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bp convert}: any data set bp reads, written as Parquet with Spark, in the columns that
 * {@code spark-train --parquet} and {@link BpSpark} read by default.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Writes a data set bp reads (fashion-mnist, digits, an IDX directory or a CSV file) as Parquet "
                + "with Spark: DIR/train and DIR/test, each row with the columns features (array of float) and label "
                + "(int), or target (array of float) with --targets. These are spark-train --parquet's defaults. "
                + "Existing output is never overwritten."},
        footer = {"", "Examples:", "  spark/run convert --data fashion-mnist --out /tmp/fashion-parquet",
                "  spark/run convert --data houses.csv --targets 1 --out /tmp/houses-parquet"})
final class ConvertCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, paramLabel = "NAME|PATH",
            description = "fashion-mnist, digits, a directory of IDX files or a CSV file (a CSV file without a test "
                    + "file is split 80:20, as bp train does).")
    String data;

    @Option(names = "--targets", paramLabel = "N",
            description = "Regression: the last N columns of the CSV file are the targets.")
    Integer targets;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where DIR/train and DIR/test go.")
    Path out;

    @Option(names = "--partitions", defaultValue = "4", paramLabel = "N",
            description = "Files per table (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master URL (default: local[*]).")
    String master;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (partitions < 1) {
            throw new Main.UsageError("--partitions must be at least 1, not " + partitions);
        }
        for (String table : List.of("train", "test")) {
            if (Files.exists(out.resolve(table))) {
                throw new Main.UsageError(out.resolve(table) + " exists: bp convert never overwrites; choose another --out");
            }
        }
        DataSources.TrainTest sets = targets == null ? DataSources.load(data)
                : DataSources.regression(Path.of(data), null, targets);
        // a session already running in this JVM (a test's, an application's) is used and left running
        boolean own = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = SparkSession.builder().config(SparkLaunch.conf(master, "bp convert")).getOrCreate();
        try {
            if (own) {
                spark.sparkContext().setLogLevel(System.getProperty("bp.spark.logLevel", "WARN"));
            }
            write(spark, sets.train(), out.resolve("train"), partitions);
            if (sets.test() != null) {
                write(spark, sets.test(), out.resolve("test"), partitions);
            }
        } finally {
            if (own) {
                spark.stop();
            }
        }
        spec.commandLine().getOut().println("wrote " + out.resolve("train") + (sets.test() == null ? ""
                : " (" + sets.train().size() + " rows) and " + out.resolve("test") + " (" + sets.test().size()
                + " rows)"));
        return 0;
    }

    /** Writes {@code d} as the Parquet table {@code table} in {@code partitions} files; refuses to overwrite. */
    static void write(SparkSession spark, Dataset d, Path table, int partitions) {
        StructType schema = new StructType()
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add(d.isClassification() ? "label" : "target", d.isClassification() ? DataTypes.IntegerType
                        : DataTypes.createArrayType(DataTypes.FloatType, false), false);
        List<Row> rows = new ArrayList<>(d.size());
        int w = d.featureCount();
        int t = d.targetWidth();
        for (int i = 0; i < d.size(); i++) {
            float[] features = Arrays.copyOfRange(d.features(), i * w, (i + 1) * w);
            rows.add(RowFactory.create(features, d.isClassification() ? (Object) d.label(i)
                    : Arrays.copyOfRange(d.targets(), i * t, (i + 1) * t)));
        }
        spark.createDataFrame(rows, schema).repartition(partitions).write().mode(SaveMode.ErrorIfExists)
                .parquet(table.toString());
    }
}
