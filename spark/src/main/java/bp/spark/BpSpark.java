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
 * by the executors into cached blocks, trained on there by local SGD that keeps its optimizer
 * state ({@link PartitionedLocalSgd}), and the test rows are evaluated there too. The driver runs
 * bp's own epoch loop: the trainer's epochs, schedule, listeners and optimizer apply; each task
 * trains with the trainer's batch size and optimizer.
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
     * Mini-batch steps each task takes between two averages (default 8).
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
     * Synchronous training instead of local SGD: one barrier stage per epoch whose tasks combine
     * every step's gradient by an all-reduce ({@link AllReduce}); the rows are cut into
     * {@link #places} virtual shards, and the model depends on their number only, never on the
     * number of executors. It needs as many task slots at once as it has tasks
     * (min(places, the cluster's default parallelism)), and dynamic allocation off.
     *
     * @return this
     */
    public BpSpark allReduce() {
        this.allReduce = true;
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

    /** bp's epoch loop on the driver, a round of local SGD per step, or an epoch of all-reduce. */
    List<EpochStats> fit(Trainer trainer, Network net, ParquetRows train, ParquetRows test) {
        int batch = (int) Math.min(trainer.batchSize(), train.size());
        if (allReduce) {
            int tasks = allReduceTasks();
            Trainer epochs = trainer.toBuilder().batchSize((int) Math.min(Integer.MAX_VALUE, train.size()))
                    .steps((n, rows, order, state) -> new AllReduce(train, n, trainer.optimizer(), state, batch,
                            trainer.seed(), tasks))
                    .build();
            try (TrainingRun run = epochs.start(net, train, null, test)) {
                return run.toEnd();
            }
        }
        long perStep = (long) batch * syncEvery * train.partitions();
        Trainer rounds = trainer.toBuilder().batchSize((int) Math.min(Integer.MAX_VALUE, perStep))
                .steps((n, rows, order, state) -> new PartitionedLocalSgd(train, n, trainer.optimizer(), state, batch,
                        syncEvery, trainer.seed()))
                .build();
        try (TrainingRun run = rounds.start(net, train, null, test)) {
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

    /** The all-reduce's tasks, all running at once: refused when the cluster cannot hold them. */
    private int allReduceTasks() {
        org.apache.spark.SparkConf conf = spark.sparkContext().getConf();
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new IllegalStateException("the all-reduce needs a fixed set of executors: turn "
                    + "spark.dynamicAllocation.enabled off");
        }
        int slots = slots();
        int tasks = Math.min(places, slots);
        if (tasks < 1) {
            throw new IllegalStateException("the all-reduce needs task slots, and no executor has registered yet");
        }
        return tasks;
    }
}
