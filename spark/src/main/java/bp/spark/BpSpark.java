package bp.spark;

import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Trainer;
import bp.train.TrainingRun;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/**
 * Training on rows that never pass through the driver: a DataFrame (or a Parquet table) is read
 * by the executors into cached blocks, cut into {@link #places} virtual shards, and trained on
 * there, in one barrier stage for the whole run whose tasks exchange their work over connections of
 * their own ({@link MeshTraining}); the test rows are evaluated on the executors too. By default it is local
 * SGD that keeps its optimizer state: each shard trains {@link #syncEvery} mini-batches, then the
 * models and their optimizer buffers are averaged; {@link #allReduce()} adds every step's
 * gradients instead. The driver runs bp's own epoch loop: the trainer's epochs, schedule,
 * listeners and optimizer apply. The model depends on the number of places, never on the number
 * of executors. The stage's tasks (min(places, the task slots)) run at once, so dynamic
 * allocation must be off.
 *
 * <pre>{@code
 * Network net = Network.builder(784).dense(512, Activation.RELU).dense(10, Activation.SOFTMAX).build();
 * Trainer trainer = Trainer.builder().epochs(10).batchSize(128).optimizer(Optimizer.adam(1e-3)).build();
 * List<EpochStats> history = new BpSpark(spark).places(8).syncEvery(16)
 *         .fit(trainer, net, spark.read().parquet("s3://bucket/train"), spark.read().parquet("s3://bucket/test"));
 * }</pre>
 */
public final class BpSpark {

    private final SparkSession spark;
    private int places;
    private int syncEvery = 8;
    private boolean allReduce;
    private int checkpointEvery;
    private java.util.function.Consumer<String> notices = org.slf4j.LoggerFactory.getLogger(BpSpark.class)::warn;
    private ParquetRows.Columns columns = ParquetRows.Columns.DEFAULT;

    /**
     * Trains on the given session's cluster.
     *
     * @param spark the session
     */
    public BpSpark(SparkSession spark) {
        this.spark = spark;
        this.places = spark.sparkContext().defaultParallelism();
    }

    /**
     * Partitions (and tasks) to spread the rows over; default: the cluster's default parallelism.
     *
     * @param places at least 1
     * @return this
     */
    public BpSpark places(int places) {
        if (places < 1) {
            throw new IllegalArgumentException("places must be at least 1, not " + places);
        }
        this.places = places;
        return this;
    }

    /**
     * Mini-batches each shard trains between two averages of local SGD (default 8).
     *
     * @param steps at least 1
     * @return this
     */
    public BpSpark syncEvery(int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps between averages must be at least 1, not " + steps);
        }
        this.syncEvery = steps;
        return this;
    }

    /**
     * Synchronous training instead of local SGD: one barrier stage whose tasks combine
     * every step's gradient by an all-reduce ({@link SyncEpoch}): a step takes
     * {@code ceil(batch / places)} rows of each shard.
     *
     * @return this
     */
    public BpSpark allReduce() {
        this.allReduce = true;
        return this;
    }

    /**
     * Steps between the checkpoints the driver keeps within an epoch (local SGD: at the end of the
     * first round that reaches each), so that when an executor is lost a new stage starts from
     * the last one instead of the epoch's start, with the same result. Default 0: the epoch's
     * start only.
     *
     * @param steps at least 0
     * @return this
     */
    public BpSpark checkpointEvery(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("steps between checkpoints must be at least 0, not " + steps);
        }
        this.checkpointEvery = steps;
        return this;
    }

    /**
     * Where a retried epoch is told (default: Spark's log, as a warning).
     *
     * @param notices takes one line per retry
     * @return this
     */
    public BpSpark notices(java.util.function.Consumer<String> notices) {
        this.notices = java.util.Objects.requireNonNull(notices, "notices");
        return this;
    }

    /**
     * Where the features and labels are (default: {@link ParquetRows.Columns#DEFAULT}).
     *
     * @param columns the columns
     * @return this
     */
    public BpSpark columns(ParquetRows.Columns columns) {
        this.columns = java.util.Objects.requireNonNull(columns, "columns");
        return this;
    }

    /**
     * Trains {@code net} in place on the rows of {@code train}, evaluating {@code test} (may be null)
     * after each epoch.
     *
     * @param trainer the epochs, batch size, optimizer, schedule, seed and listeners
     * @param net the network; its output width is the number of classes
     * @param train the training rows
     * @param test the test rows, or null
     * @return each epoch's figures
     * @throws bp.data.DataException when a column or a row is not what bp trains on, before any training
     */
    public List<EpochStats> fit(Trainer trainer, Network net, org.apache.spark.sql.Dataset<Row> train,
                                org.apache.spark.sql.Dataset<Row> test) {
        int classes = columns.label() != null ? net.outputs() : 0;
        try (ParquetRows trainRows = ParquetRows.of(train, "the training rows", columns, places, classes);
             ParquetRows testRows = test == null ? null : ParquetRows.of(test, "the test rows", columns, places, classes)) {
            return fit(trainer, net, trainRows, testRows);
        }
    }

    /**
     * As {@link #fit(Trainer, Network, org.apache.spark.sql.Dataset, org.apache.spark.sql.Dataset)}
     * on Parquet tables.
     *
     * @param trainer the epochs, batch size, optimizer, schedule, seed and listeners
     * @param net the network; its output width is the number of classes
     * @param trainParquet the training table
     * @param testParquet the test table, or null
     * @return each epoch's figures
     */
    public List<EpochStats> fit(Trainer trainer, Network net, String trainParquet, String testParquet) {
        int classes = columns.label() != null ? net.outputs() : 0;
        try (ParquetRows trainRows = ParquetRows.read(spark, trainParquet, columns, places, classes);
             ParquetRows testRows = testParquet == null ? null
                     : ParquetRows.read(spark, testParquet, columns, places, classes)) {
            return fit(trainer, net, trainRows, testRows);
        }
    }

    /** bp's epoch loop on the driver, an epoch per step of one barrier stage on the executors. */
    List<EpochStats> fit(Trainer trainer, Network net, ParquetRows train, ParquetRows test) {
        int batch = (int) Math.min(trainer.batchSize(), train.size());
        int tasks = tasks();
        int k = allReduce ? 0 : syncEvery;
        MeshTraining[] stage = new MeshTraining[1];
        Trainer epochs = trainer.toBuilder().batchSize((int) Math.min(Integer.MAX_VALUE, train.size()))
                .steps((n, rows, order, state) -> stage[0] = new MeshTraining(train, test, n, trainer.optimizer(),
                        state, batch, k, trainer.seed(), tasks, checkpointEvery, notices))
                .build();
        try (TrainingRun run = epochs.start(net, train, null,
                test == null ? null : MeshTraining.evaluatedByTheStage(test, () -> stage[0]))) {
            return run.toEnd();
        }
    }

    /**
     * Tasks that can run at once: local[N]'s N threads, or the registered executors times their
     * cores (spark.executor.cores, 1 when not set). The model does not depend on it.
     */
    private int slots() {
        org.apache.spark.SparkContext sc = spark.sparkContext();
        if (sc.isLocal()) {
            return sc.defaultParallelism();
        }
        int executors = sc.statusTracker().getExecutorInfos().length - 1; // the driver is listed too
        return executors * sc.getConf().getInt("spark.executor.cores", 1);
    }

    /** The barrier stage's tasks, all running at once: refused when the cluster cannot hold them. */
    private int tasks() {
        org.apache.spark.SparkConf conf = spark.sparkContext().getConf();
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new IllegalStateException("training on the executors needs a fixed set of executors (its tasks run "
                    + "at once in a barrier stage): turn spark.dynamicAllocation.enabled off");
        }
        int slots = slots();
        int tasks = Math.min(places, slots);
        if (tasks < 1) {
            throw new IllegalStateException("training on the executors needs task slots, and no executor has "
                    + "registered yet");
        }
        return tasks;
    }
}
