package bp.spark;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.engine.NetworkInternals;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;
import bp.nn.Network;
import bp.train.Optimizer;
import bp.train.TrainingStep;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Synchronous data-parallel training without a Spark job per step: one barrier stage per epoch,
 * in which each task keeps its blocks of rows, its workspace and its copy of the optimizer, and
 * every step's gradient is combined by an all-reduce between the tasks ({@link Mesh}).
 *
 * <p>The rows are cut into a fixed number V of virtual shards (the blocks of {@link ParquetRows});
 * a step takes {@code ceil(batch / V)} rows of each shard, in the shard's own order for the epoch.
 * Each shard's gradient is computed by whichever task holds the shard. Reduce-scatter: the
 * parameters are cut into one chunk per task; every shard's piece of chunk c goes to task c, which
 * adds the V pieces in a fixed binary tree. All-gather: task c sends the sum of chunk c to all
 * others. Every task then applies the same optimizer to the same sum, so all hold the same
 * parameters, and the model depends on V, never on the number of tasks or executors.
 */
final class AllReduce implements TrainingStep {

    /**
     * Fault injection for tests: a job-local property {@code "epoch:step:task"} at which that task
     * halts its executor JVM, in the epoch's first attempt only (a lost executor, mid-epoch).
     */
    static final String HALT_AT = "bp.testing.haltAt";

    /** What every task of a stage needs; sent with the stage's closure. */
    private record Setup(String name, int classes, Architecture architecture, int batch, long seed, long[] shardRows,
                         int tasks, byte[] secret, int attempt) implements Serializable {
    }

    /** The epoch's starting point, broadcast: parameters, optimizer (with this epoch's learning rate) and its state. */
    private record Start(float[] parameters, long steps, float[][] buffers, Optimizer optimizer, int epoch)
            implements Serializable {
    }

    /** What the stage's first task returns: the network and optimizer after the epoch, the summed loss and correct rows. */
    private record Result(float[] parameters, long steps, float[][] buffers, double lossSum, long correct)
            implements Serializable {
    }

    private final JavaSparkContext spark;
    private final ParquetRows rows;
    private final Network net;
    private final Optimizer optimizer;
    private final Optimizer.State state;
    private final int batch;
    private final long seed;
    private final int tasks;
    /** The blocks moved once, at the start of the run, so that task t holds its shards (a barrier stage cannot coalesce). */
    private final JavaRDD<RowBlock> grouped;
    private long correct;

    AllReduce(ParquetRows rows, Network net, Optimizer optimizer, Optimizer.State state, int batch, long seed,
              int tasks) {
        this.spark = JavaSparkContext.fromSparkContext(rows.blocks().context());
        this.rows = rows;
        this.net = net;
        this.optimizer = optimizer;
        this.state = state;
        this.batch = batch;
        this.seed = seed;
        this.tasks = tasks;
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

    /**
     * Attempts of an epoch's stage. Spark retries no barrier stage that returns results to the
     * driver (it aborts the job), so the driver runs the stage again itself: from the same state,
     * the parameters and optimizer it holds from the end of the last epoch.
     */
    static final int ATTEMPTS = 4;

    /** One epoch: one barrier stage, run again from the epoch's start when a task or an executor is lost. */
    @Override
    public double train(int epoch, long from, int size, double lr) {
        Broadcast<Start> start = spark.broadcast(new Start(net.parameters().clone(), state.steps(),
                state.copyOfBuffers(), optimizer.withLearningRate(lr), epoch));
        Result r;
        try {
            r = stage(start, epoch);
        } finally {
            start.destroy();
        }
        System.arraycopy(r.parameters(), 0, net.parameters(), 0, r.parameters().length);
        net.parametersChanged();
        state.restore(r.steps(), r.buffers());
        correct = r.correct();
        return r.lossSum();
    }

    private Result stage(Broadcast<Start> start, int epoch) {
        for (int attempt = 0; ; attempt++) {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret); // a new one per attempt: the tasks of an old one cannot join
            Setup setup = new Setup(rows.name(), rows.classes(), Architecture.of(net), batch, seed, rows.shardRows(),
                    tasks, secret, attempt);
            try {
                return grouped.rdd().barrier().mapPartitions(new Stage(setup, start), false,
                        scala.reflect.ClassTag$.MODULE$.apply(Result.class)).toJavaRDD().collect().get(0);
            } catch (Exception e) { // a SparkException, which Scala throws undeclared: a task or an executor was lost
                if (e instanceof RuntimeException r) {
                    throw r;
                }
                if (attempt + 1 == ATTEMPTS) {
                    throw new IllegalStateException("the all-reduce of epoch " + epoch + " failed " + ATTEMPTS
                            + " times; the last time: " + e.getMessage(), e);
                }
            }
        }
    }

    @Override
    public long correct() {
        return correct;
    }

    /** The barrier stage's function (the Scala API takes a Scala function of Scala iterators). */
    private static final class Stage
            extends scala.runtime.AbstractFunction1<scala.collection.Iterator<RowBlock>, scala.collection.Iterator<Result>>
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

    /** A task's epoch: connect to the others, then every step of the epoch. */
    private static Iterator<Result> epoch(Iterator<RowBlock> blocks, Setup s, Start start) {
        BarrierTaskContext context = BarrierTaskContext.get();
        int me = context.partitionId();
        ServerSocket server = Mesh.listen(SparkEnv.get().blockManager().blockManagerId().host());
        String address = server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
        String[] addresses = context.allGather(address);
        String halt = s.attempt() == 0 ? context.getLocalProperty(HALT_AT) : null;
        try (Mesh mesh = Mesh.connect(me, addresses, server, s.secret())) {
            Result r = new Worker(s, start, blocks, me, mesh, halt).run();
            context.barrier(); // no task closes its sockets while another still reads
            return me == 0 ? List.of(r).iterator() : java.util.Collections.emptyIterator();
        }
    }

    /** One task's part of the stage. */
    private static final class Worker {
        private final Setup s;
        private final int me;
        private final Mesh mesh;
        private final Network net;
        private final Optimizer.State state;
        private final Optimizer optimizer;
        private final List<RowBlock> mine = new ArrayList<>();
        private final List<Dataset> data = new ArrayList<>();
        private final List<int[]> orders = new ArrayList<>();
        private final int shardBatch;
        private final int shards;
        /** Shards with rows; each sends a piece every step, with or without rows in it. */
        private final int nonEmpty;
        private final int[] chunkStart;
        private final float[] grad;
        private final float[] sum;
        private final float[][] pieces;
        private final int[] rowsOf;
        private final double[] lossOf;
        private final long[] correctOf;
        private final List<Mesh.Message> early = new ArrayList<>();
        /** My shards' pieces of my chunk, reused from step to step. */
        private final float[][] own;
        /** Which pieces came from the mesh this step, to hand back their arrays. */
        private final boolean[] received;
        private final Workspace ws;
        private final int epoch;
        /** The step of this epoch at which this task halts its JVM (tests), or −1. */
        private final int haltStep;

        Worker(Setup s, Start start, Iterator<RowBlock> blocks, int me, Mesh mesh, String halt) {
            this.haltStep = haltStep(halt, start.epoch(), me);
            this.s = s;
            this.me = me;
            this.mesh = mesh;
            this.epoch = start.epoch();
            this.net = s.architecture().build(start.parameters().clone());
            this.optimizer = start.optimizer();
            this.state = optimizer.newState(net.parameterCount());
            state.restore(start.steps(), start.buffers());
            blocks.forEachRemaining(b -> {
                if (b.rows() > 0) {
                    mine.add(b);
                    data.add(b.dataset(s.name(), s.classes()));
                    orders.add(b.epochOrder(s.seed(), epoch));
                }
            });
            this.shards = s.shardRows().length;
            this.nonEmpty = (int) Arrays.stream(s.shardRows()).filter(n -> n > 0).count();
            this.shardBatch = (s.batch() + shards - 1) / shards;
            int p = net.parameterCount();
            this.chunkStart = new int[s.tasks() + 1];
            for (int c = 0; c <= s.tasks(); c++) {
                chunkStart[c] = (int) ((long) p * c / s.tasks());
            }
            this.grad = new float[p];
            this.sum = new float[p];
            this.pieces = new float[shards][];
            this.own = new float[shards][];
            this.received = new boolean[shards];
            this.rowsOf = new int[shards];
            this.lossOf = new double[shards];
            this.correctOf = new long[shards];
            this.ws = new Workspace(net, shardBatch);
        }

        Result run() {
            long steps = 0;
            for (long n : s.shardRows()) {
                steps = Math.max(steps, (n + shardBatch - 1) / shardBatch);
            }
            double loss = 0;
            long correct = 0;
            for (int step = 0; step < steps; step++) {
                double[] totals = step(step);
                loss += totals[0];
                correct += (long) totals[1];
            }
            return new Result(net.parameters(), state.steps(), state.buffers(), loss, correct);
        }

        /** The step of {@link #HALT_AT}'s "epoch:step:task" when it names this epoch and task, else −1. */
        private static int haltStep(String halt, int epoch, int me) {
            if (halt == null) {
                return -1;
            }
            String[] at = halt.split(":");
            return Integer.parseInt(at[0]) == epoch && Integer.parseInt(at[2]) == me ? Integer.parseInt(at[1]) : -1;
        }

        /** One step: my shards' gradients, reduce-scatter, all-gather, the update; the step's loss and correct rows. */
        private double[] step(int step) {
            if (step == haltStep) {
                Runtime.getRuntime().halt(137); // as if the executor were killed
            }
            for (int i = 0; i < mine.size(); i++) {
                shardGradient(i, step);
            }
            int expected = nonEmpty - mine.size();
            while (expected > 0) {
                Mesh.Message m = next(true);
                accept(m.tag(), m.values(), m.rows(), m.loss(), m.correct());
                received[m.tag()] = true;
                expected--;
            }
            // my chunk: the shards' pieces added in a fixed tree, shard order
            List<float[]> used = new ArrayList<>();
            double loss = 0;
            long correct = 0;
            int rows = 0;
            for (int v = 0; v < shards; v++) {
                if (rowsOf[v] > 0) {
                    used.add(pieces[v]);
                    loss += lossOf[v];
                    correct += correctOf[v];
                    rows += rowsOf[v];
                }
            }
            float[][] tree = used.toArray(new float[0][]);
            BatchGradient.treeSum(tree, tree.length, 0, tree[0].length);
            int off = chunkStart[me];
            System.arraycopy(tree[0], 0, sum, off, tree[0].length);
            for (int c = 0; c < s.tasks(); c++) {
                if (c != me) {
                    mesh.send(c, -1 - me, rows, loss, correct, sum, off, tree[0].length);
                }
            }
            for (int gathered = 1; gathered < s.tasks(); gathered++) {
                Mesh.Message m = next(false);
                int c = -1 - m.tag();
                System.arraycopy(m.values(), 0, sum, chunkStart[c], m.values().length);
                mesh.recycle(m.values());
            }
            for (int v = 0; v < shards; v++) {
                if (received[v]) {
                    mesh.recycle(pieces[v]);
                    received[v] = false;
                }
            }
            state.step(net, sum, rows, optimizer.learningRate(), true);
            return new double[] {loss, correct};
        }

        /** Shard i's gradient for this step; its piece of each task's chunk goes to that task. */
        private void shardGradient(int i, int step) {
            RowBlock b = mine.get(i);
            int from = step * shardBatch;
            int rows = Math.max(0, Math.min(shardBatch, b.rows() - from));
            int[] correct = new int[1];
            double loss = 0;
            if (rows > 0) {
                TransposedWeights transposed = BatchGradient.usesTransposedWeights(rows)
                        ? NetworkInternals.transposedWeights(net) : null;
                loss = BatchGradient.group(net, transposed, ws, data.get(i), orders.get(i), from, rows, rows, 1, 0,
                        grad, correct, 0);
            } else {
                Arrays.fill(grad, 0f);
            }
            for (int c = 0; c < s.tasks(); c++) {
                int off = chunkStart[c];
                int len = chunkStart[c + 1] - off;
                if (c == me) {
                    float[] piece = own[b.partition()];
                    if (piece == null) {
                        piece = own[b.partition()] = new float[len];
                    }
                    System.arraycopy(grad, off, piece, 0, len);
                    accept(b.partition(), piece, rows, loss, correct[0]);
                } else {
                    mesh.send(c, b.partition(), rows, loss, correct[0], grad, off, len);
                }
            }
        }

        private void accept(int shard, float[] piece, int rows, double loss, long correct) {
            pieces[shard] = piece;
            rowsOf[shard] = rows;
            lossOf[shard] = loss;
            correctOf[shard] = correct;
        }

        /**
         * The next message of the kind wanted: a shard's piece or a gathered chunk. A peer that has
         * gone on to the next step may send its piece before another peer's chunk of this step has
         * come: messages of the other kind wait in {@link #early}.
         */
        private Mesh.Message next(boolean piece) {
            for (Iterator<Mesh.Message> it = early.iterator(); it.hasNext(); ) {
                Mesh.Message m = it.next();
                if ((m.tag() >= 0) == piece) {
                    it.remove();
                    return m;
                }
            }
            while (true) {
                Mesh.Message m = mesh.receive();
                if ((m.tag() >= 0) == piece) {
                    return m;
                }
                early.add(m);
            }
        }
    }
}
