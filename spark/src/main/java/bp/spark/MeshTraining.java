package bp.spark;

import bp.nn.Network;
import bp.train.Optimizer;
import bp.train.TrainingStep;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.IOException;
import java.io.Serializable;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.List;

/**
 * Training on rows that stay on the executors, without a Spark job per step: one barrier stage per
 * epoch, in which each task keeps its blocks of rows, its workspace and its optimizer, and the
 * tasks combine their work over connections of their own ({@link Mesh}, {@link ShardSum}). Either
 * every step's gradient is added (the all-reduce: synchronous SGD, {@link SyncEpoch}), or every K
 * mini-batches the models trained on each shard are averaged with their optimizer state (local
 * SGD, {@link LocalSgdEpoch}).
 *
 * <p>The rows are cut into a fixed number V of virtual shards (the blocks of {@link ParquetRows}),
 * and every sum over shards is a fixed tree in shard order: the model depends on V, never on the
 * number of tasks or executors.
 */
final class MeshTraining implements TrainingStep {

    /**
     * Fault injection for tests: a job-local property {@code "epoch:exchange:task"} at which that
     * task halts its executor JVM, in the epoch's first attempt only (a lost executor, mid-epoch).
     */
    static final String HALT_AT = "bp.testing.haltAt";

    /**
     * Spark setting: whether tasks on the same host exchange message bodies through shared memory
     * (default true; false sends everything over TCP, as between hosts).
     */
    static final String SHARED_MEMORY = "spark.bp.mesh.sharedMemory";

    /**
     * What every task of a stage needs; sent with the stage's closure.
     *
     * @param syncEvery 0 for the all-reduce of every step's gradient, else local SGD's K
     * @param rendezvous where the tasks meet on the driver ({@link Rendezvous})
     * @param sharedMemory whether tasks on one host exchange through shared memory ({@link #SHARED_MEMORY})
     */
    record Setup(String name, int classes, Architecture architecture, int batch, int syncEvery, long seed,
                 long[] shardRows, int tasks, String rendezvous, byte[] secret, int attempt, boolean sharedMemory,
                 int checkpointEvery) implements Serializable {
    }

    /**
     * Where an attempt of the epoch's stage starts, broadcast: parameters, optimizer (with this
     * epoch's learning rate) and its state, at exchange {@code from} of the epoch with the loss
     * and correct rows of the exchanges before (0 at the epoch's start; later from a {@link Checkpoints checkpoint}).
     */
    record Start(float[] parameters, long steps, float[][] buffers, Optimizer optimizer, int epoch, int from,
                 double lossSum, long correct) implements Serializable {
    }

    /**
     * What the stage's first task returns: the network and optimizer after the epoch, the summed
     * loss and correct rows.
     */
    record Result(float[] parameters, long steps, float[][] buffers, double lossSum, long correct)
            implements Serializable {
    }

    /**
     * Attempts of an epoch's stage. Spark retries no barrier stage that returns results to the
     * driver (it aborts the job), so the driver runs the stage again itself: from the same state,
     * the parameters and optimizer it holds from the end of the last epoch.
     */
    static final int ATTEMPTS = 4;

    private final JavaSparkContext spark;
    private final ParquetRows rows;
    private final Network net;
    private final Optimizer optimizer;
    private final Optimizer.State state;
    private final int batch;
    private final int syncEvery;
    private final long seed;
    private final int tasks;
    private final int checkpointEvery;
    private final java.util.function.Consumer<String> notices;
    /**
     * The blocks moved once, at the start of the run, so that task t holds its shards (a barrier
     * stage cannot coalesce).
     */
    private final JavaRDD<RowBlock> grouped;
    private long correct;

    /**
     * @param syncEvery 0 for the all-reduce, else the mini-batches of local SGD between two averages
     * @param tasks the stage's tasks, all running at once
     * @param checkpointEvery steps between the checkpoints the driver keeps within an epoch (local SGD:
     *                        rounds of at least that many steps), 0 for none
     * @param notices where a retried epoch is told
     */
    MeshTraining(ParquetRows rows, Network net, Optimizer optimizer, Optimizer.State state, int batch, int syncEvery,
                 long seed, int tasks, int checkpointEvery, java.util.function.Consumer<String> notices) {
        this.spark = JavaSparkContext.fromSparkContext(rows.blocks().context());
        this.rows = rows;
        this.net = net;
        this.optimizer = optimizer;
        this.state = state;
        this.batch = batch;
        this.syncEvery = syncEvery;
        this.seed = seed;
        this.tasks = tasks;
        this.checkpointEvery = syncEvery == 0 ? checkpointEvery : (checkpointEvery + syncEvery - 1) / syncEvery;
        this.notices = notices;
        int shards = rows.partitions();
        this.grouped = rows.blocks()
                .mapToPair(b -> new scala.Tuple2<>((int) ((long) b.partition() * tasks / shards), b))
                .partitionBy(new org.apache.spark.HashPartitioner(tasks)).values();
        grouped.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
        grouped.count();
    }

    @Override
    public void close() {
        grouped.unpersist(false);
    }

    /** One epoch: one barrier stage, run again from the last checkpoint when a task or an executor is lost. */
    @Override
    public double train(int epoch, long from, int size, double lr) {
        Result r = stage(new Start(net.parameters().clone(), state.steps(), state.copyOfBuffers(),
                optimizer.withLearningRate(lr), epoch, 0, 0, 0));
        System.arraycopy(r.parameters(), 0, net.parameters(), 0, r.parameters().length);
        net.parametersChanged();
        state.restore(r.steps(), r.buffers());
        correct = r.correct();
        return r.lossSum();
    }

    private Result stage(Start epochStart) {
        SparkConf conf = spark.getConf();
        String host = conf.get("spark.driver.host");
        Start from = epochStart;
        for (int attempt = 0; ; attempt++) {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret); // a new one per attempt: the tasks of an old one cannot join
            Rendezvous meeting = Rendezvous.open(conf.get("spark.driver.bindAddress", host), host, tasks, secret);
            Broadcast<Start> start = spark.broadcast(from);
            try {
                Setup setup = new Setup(rows.name(), rows.classes(), Architecture.of(net), batch, syncEvery, seed,
                        rows.shardRows(), tasks, meeting.address(), secret, attempt,
                        conf.getBoolean(SHARED_MEMORY, true), checkpointEvery);
                return grouped.rdd().barrier().mapPartitions(new Stage(setup, start), false,
                        scala.reflect.ClassTag$.MODULE$.apply(Result.class)).toJavaRDD().collect().get(0);
            } catch (Exception e) { // a SparkException, which Scala throws undeclared: a task or an executor was lost
                if (e instanceof RuntimeException r) {
                    throw r;
                }
                if (attempt + 1 == ATTEMPTS) {
                    throw new IllegalStateException("epoch " + epochStart.epoch() + " on the executors failed "
                            + ATTEMPTS + " times; the last time: " + e.getMessage(), e);
                }
                Start saved = lastCheckpoint(meeting);
                if (saved != null && saved.epoch() == epochStart.epoch() && saved.from() > from.from()) {
                    from = new Start(saved.parameters(), saved.steps(), saved.buffers(), epochStart.optimizer(),
                            saved.epoch(), saved.from(), saved.lossSum(), saved.correct());
                }
                notices.accept(String.format(java.util.Locale.ROOT, "epoch %d: attempt %d of %d lost a task (%s); "
                        + "the next starts at %s %d of the epoch", epochStart.epoch(), attempt + 1, ATTEMPTS,
                        firstLine(e.getMessage()), syncEvery == 0 ? "step" : "round", from.from()));
            } finally {
                meeting.close();
                start.destroy();
            }
        }
    }

    private static Start lastCheckpoint(Rendezvous meeting) {
        try {
            return meeting.checkpoint();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the epoch's stage was failing", e);
        }
    }

    private static String firstLine(String message) {
        return message == null ? "no message" : message.lines().findFirst().orElse("");
    }

    @Override
    public long correct() {
        return correct;
    }

    /** The barrier stage's function (the Scala API takes a Scala function of Scala iterators). */
    private static final class Stage
            extends scala.runtime.AbstractFunction1<scala.collection.Iterator<RowBlock>,
            scala.collection.Iterator<Result>>
            implements Serializable {
        private final Setup setup;
        private final Broadcast<Start> start;

        Stage(Setup setup, Broadcast<Start> start) {
            this.setup = setup;
            this.start = start;
        }

        @Override
        public scala.collection.Iterator<Result> apply(scala.collection.Iterator<RowBlock> blocks) {
            return scala.jdk.javaapi.CollectionConverters.asScala(
                    epoch(scala.jdk.javaapi.CollectionConverters.asJava(blocks), setup, start.value()));
        }
    }

    /** A task's epoch: meet the others, connect to them, train, and end together. */
    private static Iterator<Result> epoch(Iterator<RowBlock> blocks, Setup s, Start start) {
        BarrierTaskContext context = BarrierTaskContext.get();
        int me = context.partitionId();
        int haltAt = s.attempt() == 0 ? haltAt(context.getLocalProperty(HALT_AT), start.epoch(), me) : -1;
        EpochTask task = s.syncEvery() == 0 ? new SyncEpoch(s, start, blocks, me, haltAt)
                : new LocalSgdEpoch(s, start, blocks, me, haltAt);
        ServerSocket server = Mesh.listen(SparkEnv.get().blockManager().blockManagerId().host());
        Rendezvous.Joined joined;
        try {
            joined = Rendezvous.join(s.rendezvous(), s.secret(), me,
                    server.getInetAddress().getHostAddress() + ":" + server.getLocalPort());
        } catch (RuntimeException e) {
            try {
                server.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        int sharedFloats = s.sharedMemory() ? ShardSum.largestMessage(task.exchangedFloats(), s.tasks()) : 0;
        try (Checkpoints checkpoints = new Checkpoints(joined.driver(), s.checkpointEvery());
             Mesh mesh = Mesh.connect(me, joined.addresses(), server, s.secret(), sharedFloats)
                     .stopWhen(context::isInterrupted)) {
            Result r = task.run(mesh, checkpoints);
            mesh.finish(); // no task closes its sockets while another still reads
            return me == 0 ? List.of(r).iterator() : java.util.Collections.emptyIterator();
        }
    }

    /** The exchange of {@link #HALT_AT}'s "epoch:exchange:task" when it names this epoch and task, else −1. */
    private static int haltAt(String halt, int epoch, int me) {
        if (halt == null) {
            return -1;
        }
        String[] at = halt.split(":");
        return Integer.parseInt(at[0]) == epoch && Integer.parseInt(at[2]) == me ? Integer.parseInt(at[1]) : -1;
    }
}
