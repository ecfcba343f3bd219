package bp.spark;

import bp.data.DataException;
import bp.data.DataSources;
import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Evaluation;
import bp.train.Optimizer;
import bp.train.Trainer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rows that stay on the executors: Parquet written by {@code convert}, read into cached blocks,
 * trained on by local SGD that keeps its optimizer, evaluated where they are; and every kind of
 * bad input refused before training with one line naming the rows and the column.
 */
class ParquetTrainingTest {

    private static SparkSession spark;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().config(SparkLaunch.conf("local[2]", "bp test")).getOrCreate();
        spark.sparkContext().setLogLevel("ERROR");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Network network() {
        return Network.builder(64).dense(48, Activation.RELU).dense(10, Activation.SOFTMAX).seed(5).build();
    }

    private static Path convertedDigits() {
        Path out = dir.resolve("digits");
        if (!Files.exists(out.resolve("train"))) {
            StringWriter err = new StringWriter();
            int status = SparkMain.run(new String[] {"convert", "--master", "local[2]", "--data", "digits", "--out",
                    out.toString(), "--partitions", "3"}, new PrintWriter(new StringWriter()), new PrintWriter(err));
            assertEquals(0, status, err.toString());
        }
        return out;
    }

    /**
     * convert writes the digits as Parquet; local SGD on the cached partitions (2 places, averaging
     * every 4 steps, Adam carried across rounds) learns them as well as the local trainer does (about
     * 96 % after 8 epochs here; a broken average or optimizer state stays far lower). The 8 epochs
     * and their evaluations are one Spark job (one stage), and the stage's evaluation of the test
     * rows is the one a job of its own makes.
     */
    @Test
    void localSgdOnParquetLearnsTheDigitsInOneStage() throws InterruptedException {
        Path digits = convertedDigits();
        Network net = network();
        Trainer trainer = Trainer.builder().epochs(8).batchSize(32).optimizer(Optimizer.adam(0.005)).seed(3).build();
        StageJobs jobs = new StageJobs();
        spark.sparkContext().addSparkListener(jobs);
        List<EpochStats> h;
        try {
            h = new BpSpark(spark).places(2).syncEvery(4)
                    .fit(trainer, net, digits.resolve("train").toString(), digits.resolve("test").toString());
            assertEquals(1, jobs.counted(), "Spark jobs that trained");
        } finally {
            spark.sparkContext().removeSparkListener(jobs);
        }
        EpochStats last = h.get(h.size() - 1);
        assertEquals(8, h.size());
        assertTrue(last.testAccuracy() >= 0.93, "test accuracy " + last.testAccuracy() + ": " + h);
        assertTrue(last.trainLoss() < h.get(0).trainLoss() / 2, "loss did not fall: " + h);
        // the executors' evaluation is the local one: the same counts
        Evaluation local = Trainer.evaluate(net, DataSources.digits().test());
        assertEquals(local.accuracy(), last.testAccuracy(), 1e-12);
        try (ParquetRows test = ParquetRows.read(spark, digits.resolve("test").toString(), ParquetRows.Columns.DEFAULT,
                2, 10)) {
            assertEquals(test.evaluate(net).loss(), last.testLoss(), "the same sums in the same order");
        }
    }

    /**
     * Parameters set between two epochs (a listener may) reach the executors: the stage that kept
     * the old ones is replaced. Set to NaN after epoch 1, the next epoch diverges.
     */
    @Test
    void parametersSetBetweenEpochsReachTheExecutors() {
        Path digits = convertedDigits();
        Network net = network();
        Trainer trainer = Trainer.builder().epochs(2).batchSize(32).optimizer(Optimizer.sgd(0.1)).seed(3)
                .listener(new bp.train.TrainingListener() {
                    @Override
                    public void onEpochEnd(EpochStats stats) {
                        if (stats.epoch() == 1) {
                            java.util.Arrays.fill(net.parameters(), Float.NaN);
                            net.parametersChanged();
                        }
                    }
                }).build();
        bp.train.TrainingDivergedException e = assertThrows(bp.train.TrainingDivergedException.class,
                () -> new BpSpark(spark).places(2).allReduce().fit(trainer, net, digits.resolve("train").toString(),
                        null));
        assertTrue(e.getMessage().startsWith("training diverged at epoch 2"), e.getMessage());
    }

    /**
     * Counts the jobs of bp's training stages. The listener bus delivers events in order but later:
     * the count is read after a marker job's end has been delivered.
     */
    private static final class StageJobs extends org.apache.spark.scheduler.SparkListener {
        private final java.util.concurrent.atomic.AtomicInteger stages = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.CountDownLatch marker = new java.util.concurrent.CountDownLatch(1);
        private volatile int markerJob = -1;

        @Override
        public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart start) {
            String group = start.properties() == null ? null : start.properties().getProperty("spark.jobGroup.id");
            if (group != null && group.startsWith("bp-stage-")) {
                stages.incrementAndGet();
            }
            if (group != null && group.equals("bp-test-marker")) {
                markerJob = start.jobId();
            }
        }

        @Override
        public void onJobEnd(org.apache.spark.scheduler.SparkListenerJobEnd end) {
            if (end.jobId() == markerJob) {
                marker.countDown();
            }
        }

        int counted() throws InterruptedException {
            spark.sparkContext().setJobGroup("bp-test-marker", "marker", false);
            try {
                spark.range(1).javaRDD().count();
            } finally {
                spark.sparkContext().clearJobGroup();
            }
            assertTrue(marker.await(60, java.util.concurrent.TimeUnit.SECONDS), "the marker job's end");
            return stages.get();
        }
    }

    /** Evaluated by partitions on the executors, the figures are the local evaluation's. */
    @Test
    void evaluationOnTheExecutorsIsTheLocalOne() {
        Path digits = convertedDigits();
        Network net = network();
        Trainer.builder().epochs(1).batchSize(32).seed(1).build().fit(net, DataSources.digits().train(), null);
        try (ParquetRows test = ParquetRows.read(spark, digits.resolve("test").toString(), ParquetRows.Columns.DEFAULT,
                4, 10)) {
            Evaluation there = test.evaluate(net);
            Evaluation here = Trainer.evaluate(net, DataSources.digits().test());
            assertEquals(359, test.size());
            assertEquals(64, test.featureCount());
            assertArrayEquals(here.confusion(), there.confusion());
            assertEquals(here.loss(), there.loss(), 1e-12 * here.loss());
        }
    }

    /**
     * A Spark ML vector column (as VectorAssembler makes it), dense and sparse rows alike, reads as
     * the same rows: the executors' evaluation of the digits from vectors is the local one; a NaN
     * in a vector is refused like one in an array.
     */
    @Test
    void sparkMlVectorColumnsAreRead() {
        bp.data.Dataset digits = DataSources.digits().test();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < digits.size(); i++) {
            double[] x = new double[digits.featureCount()];
            for (int j = 0; j < x.length; j++) {
                x[j] = digits.features()[i * x.length + j];
            }
            org.apache.spark.ml.linalg.Vector v = org.apache.spark.ml.linalg.Vectors.dense(x);
            rows.add(RowFactory.create(i % 2 == 0 ? v : v.toSparse(), digits.label(i)));
        }
        StructType vectors = new StructType().add("features", new org.apache.spark.ml.linalg.VectorUDT())
                .add("label", DataTypes.IntegerType);
        Network net = network();
        Trainer.builder().epochs(1).batchSize(32).seed(1).build().fit(net, DataSources.digits().train(), null);
        try (ParquetRows test = ParquetRows.of(spark.createDataFrame(rows, vectors), "vectors",
                ParquetRows.Columns.DEFAULT, 3, 10)) {
            Evaluation there = test.evaluate(net);
            Evaluation here = Trainer.evaluate(net, digits);
            assertEquals(64, test.featureCount());
            assertArrayEquals(here.confusion(), there.confusion());
            assertEquals(here.loss(), there.loss(), 1e-12 * here.loss());
        }
        List<Row> bad = List.of(RowFactory.create(org.apache.spark.ml.linalg.Vectors.dense(1, Double.NaN, 3), 0));
        DataException e = assertThrows(DataException.class, () -> ParquetRows.of(spark.createDataFrame(bad, vectors),
                "bad vectors", ParquetRows.Columns.DEFAULT, 1, 2).close());
        assertTrue(e.getMessage().startsWith("bad vectors: column 'features' has the value NaN in row 1"), e.getMessage());
    }

    private static final StructType SCHEMA = new StructType()
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, true), true)
            .add("label", DataTypes.IntegerType, true);

    private static org.apache.spark.sql.Dataset<Row> frame(StructType schema, Object[]... rows) {
        List<Row> list = new ArrayList<>();
        for (Object[] r : rows) {
            list.add(RowFactory.create(r));
        }
        return spark.createDataFrame(list, schema);
    }

    private static Object[] row(int label, float... features) {
        return new Object[] {features, label};
    }

    /** Fits a 3-input, 2-class network on the frame; the refusal's message. */
    private static String refusal(Supplier<org.apache.spark.sql.Dataset<Row>> train,
                                  Supplier<org.apache.spark.sql.Dataset<Row>> test, ParquetRows.Columns columns) {
        Network net = Network.builder(3).dense(2, Activation.SOFTMAX).build();
        Trainer trainer = Trainer.builder().epochs(1).batchSize(2).build();
        DataException e = assertThrows(DataException.class, () -> new BpSpark(spark).places(1).columns(columns)
                .fit(trainer, net, train.get(), test == null ? null : test.get()));
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertStarts(String expected, String actual) {
        assertTrue(actual.startsWith(expected), "expected '" + expected + "…', got '" + actual + "'");
    }

    @Test
    void badInputIsRefusedBeforeTraining() {
        ParquetRows.Columns cols = ParquetRows.Columns.DEFAULT;
        Supplier<org.apache.spark.sql.Dataset<Row>> good = () -> frame(SCHEMA, row(0, 1, 2, 3), row(1, 4, 5, 6));
        assertStarts("the training rows: no column 'pixels' (it has features, label)",
                refusal(good, null, ParquetRows.Columns.classification("pixels", "label")));
        StructType stringLabel = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType))
                .add("label", DataTypes.StringType);
        assertStarts("the training rows: column 'label' is string, expected an integer class label",
                refusal(() -> frame(stringLabel, new Object[] {new float[] {1, 2, 3}, "cat"}), null, cols));
        StructType stringFeatures = new StructType().add("features", DataTypes.StringType)
                .add("label", DataTypes.IntegerType);
        assertStarts("the training rows: column 'features' is string, expected a vector, an array of numbers or a number",
                refusal(() -> frame(stringFeatures, new Object[] {"1,2,3", 0}), null, cols));
        // the rows of a partition are in the order of their hash: either may come first
        String widths = refusal(() -> frame(SCHEMA, row(0, 1, 2, 3), row(1, 4, 5, 6, 7)), null, cols);
        assertTrue(widths.matches("the training rows: column 'features' has [34] values in row 2 of partition 0, the "
                + "partition's first row [34]"), widths);
        assertStarts("the training rows: column 'label' has the label 2, outside the 2 classes 0..1",
                refusal(() -> frame(SCHEMA, row(0, 1, 2, 3), row(2, 4, 5, 6)), null, cols));
        assertStarts("the training rows: column 'label' has the label -1 in row 2 of partition 0",
                refusal(() -> frame(SCHEMA, row(0, 1, 2, 3), row(-1, 4, 5, 6)), null, cols));
        assertStarts("the training rows: column 'features' has the value NaN in row 1 of partition 0",
                refusal(() -> frame(SCHEMA, row(0, 1, Float.NaN, 3)), null, cols));
        assertStarts("the training rows: column 'label' is empty in row 1 of partition 0",
                refusal(() -> frame(SCHEMA, new Object[] {new float[] {1, 2, 3}, null}), null, cols));
        assertStarts("the training rows: no rows", refusal(() -> frame(SCHEMA), null, cols));
        assertStarts("the test rows: no rows", refusal(good, () -> frame(SCHEMA), cols));
        assertStarts(dir.resolve("missing") + ": not a Parquet table", assertThrows(DataException.class,
                () -> ParquetRows.read(spark, dir.resolve("missing").toString(), cols, 1, 2)).getMessage());
    }

    /** More places than rows leaves partitions empty, which is fine; several numeric columns make the features. */
    @Test
    void emptyPartitionsAndFeatureColumnsAreFine() {
        StructType columns = new StructType().add("x", DataTypes.DoubleType).add("y", DataTypes.IntegerType)
                .add("class", DataTypes.LongType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            rows.add(RowFactory.create(i * 0.5, i % 2, (long) (i % 2)));
        }
        Network net = Network.builder(2).dense(2, Activation.SOFTMAX).seed(1).build();
        List<EpochStats> h = new BpSpark(spark).places(8).syncEvery(2)
                .columns(ParquetRows.Columns.classification("x, y", "class"))
                .fit(Trainer.builder().epochs(3).batchSize(2).optimizer(Optimizer.sgd(0.5)).build(), net,
                        spark.createDataFrame(rows, columns), null);
        assertEquals(3, h.size());
        assertTrue(Double.isFinite(h.get(2).trainLoss()), h.toString());
    }

    private static int cli(StringWriter out, StringWriter err, String... args) {
        return SparkMain.run(args, new PrintWriter(out), new PrintWriter(err));
    }

    /**
     * spark-train --parquet DIR trains on DIR/train, tests on DIR/test and saves a model that bp's
     * eval scores on the digits as spark-train reported; --parquet refuses sync mode and the data options.
     */
    @Test
    void sparkTrainReadsParquet() {
        Path digits = convertedDigits();
        Path model = dir.resolve("parquet.safetensors");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, cli(out, err, "spark-train", "--parquet", digits.toString(), "--mode", "local-sgd",
                "--sync-every", "4", "--places", "2", "--layers", "64,32,10", "--epochs", "6", "--batch", "32",
                "--optimizer", "adam", "--lr", "0.005", "--out", model.toString()), err.toString());
        assertTrue(out.toString().contains("1438 train") && out.toString().contains("359 test"), out.toString());
        assertTrue(Files.exists(model), out.toString());
        double accuracy = Trainer.evaluate(bp.io.ModelFile.load(model), DataSources.digits().test()).accuracy();
        assertTrue(accuracy > 0.85, "accuracy " + accuracy + "\n" + out);
        assertTrue(out.toString().contains(String.format(java.util.Locale.ROOT, "test accuracy %.2f%%",
                100 * accuracy)), out.toString());

        StringWriter refused = new StringWriter();
        assertEquals(2, cli(new StringWriter(), refused, "spark-train", "--parquet", digits.toString()));
        assertTrue(refused.toString().contains("--parquet trains with --mode local-sgd or allreduce"), refused.toString());
        refused = new StringWriter();
        assertEquals(2, cli(new StringWriter(), refused, "spark-train", "--parquet", digits.toString(), "--mode",
                "local-sgd", "--data", "digits"));
        assertTrue(refused.toString().contains("--parquet names the data"), refused.toString());
        refused = new StringWriter();
        assertEquals(1, cli(new StringWriter(), refused, "spark-train", "--parquet", digits.toString(), "--mode",
                "local-sgd", "--label", "nope"));
        assertTrue(refused.toString().contains("no column 'nope'"), refused.toString());
    }

    /** convert never overwrites a table that is there. */
    @Test
    void convertKeepsExistingOutput() {
        Path digits = convertedDigits();
        StringWriter err = new StringWriter();
        int status = SparkMain.run(new String[] {"convert", "--data", "digits", "--out", digits.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(2, status);
        assertTrue(err.toString().contains("exists: bp convert never overwrites"), err.toString());
    }

    /** Regression rows: array targets. */
    @Test
    void regressionRowsCarryTheirTargets() {
        Dataset line = Dataset.regression("line", new float[] {0, 1, 2, 3}, 1, new float[] {0, 2, 4, 6}, 1);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < line.size(); i++) {
            rows.add(RowFactory.create(new float[] {line.features()[i]}, new float[] {line.targets()[i]}));
        }
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType))
                .add("target", DataTypes.createArrayType(DataTypes.FloatType));
        try (ParquetRows r = ParquetRows.of(spark.createDataFrame(rows, schema), "line",
                ParquetRows.Columns.regression("features", "target"), 2, 0)) {
            assertEquals(4, r.size());
            assertEquals(1, r.targetWidth());
            assertTrue(!r.isClassification());
            Network net = Network.builder(1).dense(1, Activation.IDENTITY).loss(bp.nn.Loss.MSE).seed(1).build();
            assertEquals(Trainer.evaluate(net, line).meanSquaredError(), r.evaluate(net).meanSquaredError(), 1e-12);
        }
    }
}
