package bp.spark;

import bp.nn.Network;
import bp.train.Evaluation;
import bp.train.EvaluationSums;
import bp.train.Optimizer;
import bp.train.Rows;
import bp.train.TrainingStep;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaPairRDD;
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
 * Training on rows that stay on the executors, without a Spark job per step or per epoch: one
 * barrier stage for the whole run, in which each task keeps its blocks of rows, its workspace and
 * its optimizer from epoch to epoch, the driver names each epoch and its learning rate over the
 * connections of the {@link Rendezvous}, and the tasks combine their work over connections of
 * their own ({@link Mesh}, {@link ShardSum}). Starting a stage costs 0.15-0.27 s (broadcast,
 * scheduling, deserializing, meeting), which a stage per epoch paid every epoch. The tasks also
 * evaluate their test blocks after each epoch, since no other job can run while the stage holds
 * every task slot. Either
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
     * task halts its executor JVM, in the run's first stage attempt only (a lost executor, mid-epoch).
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
     * @param testName the test rows' name, or null when the run evaluates none
     * @param optimizer the run's optimizer (each epoch's learning rate comes from the driver)
     * @param syncEvery 0 for the all-reduce of every step's gradient, else local SGD's K
     * @param rendezvous where the tasks meet on the driver ({@link Rendezvous})
     * @param halt tests: {@link #HALT_AT}'s value in the run's first attempt, else null
     * @param sharedMemory whether tasks on one host exchange through shared memory ({@link #SHARED_MEMORY})
     */
    record Setup(String name, String testName, int classes, Architecture architecture, Optimizer optimizer, int batch,
                 int syncEvery, long seed, long[] shardRows, int tasks, String rendezvous, byte[] secret, String halt,
                 boolean sharedMemory, int checkpointEvery) implements Serializable {

        boolean evaluates() {
            return testName != null;
        }
    }

    /**
     * The network and optimizer state after {@code done} exchanges of epoch {@code epoch}, with the
     * loss and correct rows of those exchanges: where a stage attempt starts (broadcast; 0 exchanges
     * at an epoch's start, later from a checkpoint), a checkpoint, or an epoch's end.
     */
    record EpochState(float[] parameters, long steps, float[][] buffers, int epoch, int done, double lossSum,
                      long correct) implements Serializable {
    }

    /** What the stage's partitions hold: a block of training or of test rows. */
    record Held(boolean test, RowBlock block) implements Serializable {
    }

    /**
     * Attempts of an epoch. Spark retries no barrier stage that returns results to the driver (it
     * aborts the job), so the driver starts a stage again itself: from the last checkpoint of the
     * epoch, or from the state it holds from the end of the last epoch.
     */
    static final int ATTEMPTS = 4;

    private final JavaSparkContext spark;
    private final ParquetRows rows;
    private final ParquetRows test;
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
     * The blocks moved once, at the start of the run, so that task t holds its shards and its test
     * blocks (a barrier stage cannot coalesce).
     */
    private final JavaRDD<Held> grouped;
    private long correct;
    /** The stage that trains the run's epochs, or null until the next epoch starts one. */
    private Attempt running;
    /** Stage attempts started in this run. */
    private int launches;
    /** The parameters the running stage's tasks hold, as its last epoch ended. */
    private float[] stageParameters;
    /** Whether the running stage's tasks are evaluating the test rows after the last epoch. */
    private boolean evaluationDue;

    /**
     * @param test the test rows, evaluated by the stage's tasks after each epoch ({@link #evaluateTest}), or null
     * @param syncEvery 0 for the all-reduce, else the mini-batches of local SGD between two averages
     * @param tasks the stage's tasks, all running at once
     * @param checkpointEvery steps between the checkpoints the driver keeps within an epoch (local SGD:
     *                        rounds of at least that many steps), 0 for none
     * @param notices where a retried epoch is told
     */
    MeshTraining(ParquetRows rows, ParquetRows test, Network net, Optimizer optimizer, Optimizer.State state, int batch,
                 int syncEvery, long seed, int tasks, int checkpointEvery,
                 java.util.function.Consumer<String> notices) {
        this.spark = JavaSparkContext.fromSparkContext(rows.blocks().context());
        this.rows = rows;
        this.test = test;
        this.net = net;
        this.optimizer = optimizer;
        this.state = state;
        this.batch = batch;
        this.syncEvery = syncEvery;
        this.seed = seed;
        this.tasks = tasks;
        this.checkpointEvery = syncEvery == 0 ? checkpointEvery : (checkpointEvery + syncEvery - 1) / syncEvery;
        this.notices = notices;
        JavaPairRDD<Integer, Held> held = byTask(rows, false, tasks);
        if (test != null) {
            held = held.union(byTask(test, true, tasks));
        }
        this.grouped = held.partitionBy(new org.apache.spark.HashPartitioner(tasks)).values();
        grouped.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
        grouped.count();
    }

    /** The blocks, each keyed by the task that holds it: consecutive blocks go to the same task. */
    private static JavaPairRDD<Integer, Held> byTask(ParquetRows rows, boolean test, int tasks) {
        int shards = rows.partitions();
        return rows.blocks().mapToPair(b -> new scala.Tuple2<>((int) ((long) b.partition() * tasks / shards),
                new Held(test, b)));
    }

    /** Ends the stage, and drops the blocks it held. */
    @Override
    public void close() {
        try {
            if (running != null) {
                running.finish();
                running = null;
            }
        } finally {
            grouped.unpersist(false);
        }
    }

    /** One epoch of the run's stage; a new stage, from the last checkpoint, when a task or an executor is lost. */
    @Override
    public double train(int epoch, long from, int size, double lr) {
        evaluationDue = false;
        if (running != null && !java.util.Arrays.equals(net.parameters(), stageParameters)) {
            running.finish(); // the parameters were set between epochs (a listener may): the next stage starts from them
            running = null;
        }
        EpochState start = null;
        for (int attempt = 0; ; attempt++) {
            if (running == null) {
                start = start != null ? start : epochStart(epoch);
                running = new Attempt(start);
            }
            try {
                EpochState end = running.train(epoch, lr);
                stageParameters = end.parameters();
                System.arraycopy(end.parameters(), 0, net.parameters(), 0, end.parameters().length);
                net.parametersChanged();
                state.restore(end.steps(), end.buffers());
                correct = end.correct();
                evaluationDue = test != null;
                return end.lossSum();
            } catch (StageLost e) {
                EpochState saved = running.lastCheckpoint();
                running.abandon();
                running = null;
                if (attempt + 1 == ATTEMPTS) {
                    throw new IllegalStateException("epoch " + epoch + " on the executors failed " + ATTEMPTS
                            + " times; the last time: " + e.getMessage(), e.getCause());
                }
                start = start != null ? start : epochStart(epoch);
                if (saved != null && saved.epoch() == epoch && saved.done() > start.done()) {
                    start = saved;
                }
                notices.accept(String.format(java.util.Locale.ROOT, "epoch %d: attempt %d of %d lost a task (%s); "
                        + "the next starts at %s %d of the epoch", epoch, attempt + 1, ATTEMPTS,
                        firstLine(e.getMessage()), syncEvery == 0 ? "step" : "round", start.done()));
            }
        }
    }

    /** The state the driver holds at the start of {@code epoch}: the end of the last. */
    private EpochState epochStart(int epoch) {
        return new EpochState(net.parameters().clone(), state.steps(), state.copyOfBuffers(), epoch, 0, 0, 0);
    }

    /**
     * The test rows' figures for {@code net}, the network as the last epoch left it: from the
     * stage's tasks, which evaluate their test blocks after each epoch; or by a Spark job of its
     * own once no stage holds the task slots (after a lost stage, or at any other time).
     */
    Evaluation evaluateTest(Network evaluated) {
        if (running != null && evaluationDue) {
            evaluationDue = false;
            try {
                return running.evaluation();
            } catch (StageLost e) {
                running.abandon();
                running = null;
            }
        }
        if (running != null) {
            running.finish(); // the job below needs the slots the stage holds
            running = null;
        }
        return test.evaluate(evaluated);
    }

    /** The test rows, evaluated as {@link #evaluateTest} does by the step {@code training} gives. */
    static Rows evaluatedByTheStage(ParquetRows test, java.util.function.Supplier<MeshTraining> training) {
        return new Rows() {
            @Override
            public String name() {
                return test.name();
            }

            @Override
            public long size() {
                return test.size();
            }

            @Override
            public int featureCount() {
                return test.featureCount();
            }

            @Override
            public int targetWidth() {
                return test.targetWidth();
            }

            @Override
            public boolean isClassification() {
                return test.isClassification();
            }

            @Override
            public Evaluation evaluate(Network evaluated) {
                MeshTraining t = training.get();
                return t == null ? test.evaluate(evaluated) : t.evaluateTest(evaluated);
            }
        };
    }

    private static String firstLine(String message) {
        return message == null ? "no message" : message.lines().findFirst().orElse("");
    }

    @Override
    public long correct() {
        return correct;
    }

    /** A stage that ended before the run asked it to: a task or an executor was lost. */
    private static final class StageLost extends Exception {
        StageLost(Throwable cause) {
            super(cause == null ? "the stage ended" : cause.getMessage(), cause);
        }
    }

    /** The end of a stage's job, as the attempt's events tell it: null when it ended as asked. */
    private record JobEnded(Throwable failure) {
    }

    /**
     * A stage attempt: its rendezvous, the broadcast it starts from, and the thread that runs its
     * Spark job, which lasts until the run stops it or a task is lost. What the driver waits for
     * (an epoch's end, the tasks' test figures, the job's end) comes through {@code events}.
     */
    private final class Attempt {
        private final Rendezvous meeting;
        private final Broadcast<EpochState> start;
        private final java.util.concurrent.BlockingQueue<Object> events =
                new java.util.concurrent.LinkedBlockingQueue<>();
        private final String group = "bp-stage-" + java.util.UUID.randomUUID();
        private final Thread job;
        /** Events that came before the one the driver waited for. */
        private final List<Object> early = new java.util.ArrayList<>();
        /** Test figures the tasks send after the last epoch that the driver has not taken. */
        private int owedEvaluations;

        Attempt(EpochState from) {
            SparkConf conf = spark.getConf();
            String host = conf.get("spark.driver.host");
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret); // a new one per attempt: the tasks of an old one cannot join
            this.meeting = Rendezvous.open(conf.get("spark.driver.bindAddress", host), host, tasks, secret,
                    events::add);
            this.start = spark.broadcast(from);
            String halt = launches++ == 0 ? spark.getLocalProperty(HALT_AT) : null;
            Setup setup = new Setup(rows.name(), test == null ? null : test.name(), rows.classes(),
                    Architecture.of(net), optimizer, batch, syncEvery, seed, rows.shardRows(), tasks,
                    meeting.address(), secret, halt, conf.getBoolean(SHARED_MEMORY, true), checkpointEvery);
            this.job = Thread.ofPlatform().daemon().name("bp-stage").start(() -> {
                Throwable failure = null;
                try {
                    spark.setJobGroup(group, "bp: training on the executors", true);
                    grouped.rdd().barrier().mapPartitions(new Stage(setup, start), false,
                            scala.reflect.ClassTag$.MODULE$.apply(Integer.class)).count();
                } catch (Throwable e) { // a SparkException, which Scala throws undeclared: a task or an executor was lost
                    failure = e;
                }
                events.add(new JobEnded(failure));
            });
        }

        /** Trains {@code epoch} at learning rate {@code lr}; returns the state at its end. */
        EpochState train(int epoch, double lr) throws StageLost {
            for (; owedEvaluations > 0; owedEvaluations--) {
                next(Rendezvous.Evaluated.class); // the last epoch's, which the run did not ask for
            }
            meeting.command(epoch, lr);
            EpochState end = (EpochState) next(EpochState.class);
            owedEvaluations = test == null ? 0 : tasks;
            return end;
        }

        /** The tasks' test figures after the epoch, added in partition order. */
        Evaluation evaluation() throws StageLost {
            List<DriverLink.BlockSums> blocks = new java.util.ArrayList<>();
            for (; owedEvaluations > 0; owedEvaluations--) {
                blocks.addAll(((Rendezvous.Evaluated) next(Rendezvous.Evaluated.class)).blocks());
            }
            blocks.sort(java.util.Comparator.comparingInt(DriverLink.BlockSums::partition));
            EvaluationSums total = blocks.get(0).sums();
            for (int i = 1; i < blocks.size(); i++) {
                total.add(blocks.get(i).sums());
            }
            return total.evaluation();
        }

        /**
         * The next event of kind {@code expected}; the job's end is a lost stage. Events come from
         * several connections, so a task's test figures can come before task 0's epoch end: those
         * wait in {@link #early}.
         */
        private Object next(Class<?> expected) throws StageLost {
            for (java.util.Iterator<Object> i = early.iterator(); i.hasNext(); ) {
                Object e = i.next();
                if (expected.isInstance(e)) {
                    i.remove();
                    return e;
                }
            }
            while (true) {
                Object e;
                try {
                    e = events.take();
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    abandon();
                    throw new IllegalStateException("interrupted while the executors trained", interrupted);
                }
                if (e instanceof JobEnded ended) {
                    if (ended.failure() instanceof RuntimeException r) {
                        abandon(); // not a lost task: the job could not run
                        throw r;
                    }
                    if (ended.failure() instanceof Error error) {
                        abandon();
                        throw error;
                    }
                    throw new StageLost(ended.failure());
                }
                if (expected.isInstance(e)) {
                    return e;
                }
                early.add(e);
            }
        }

        /** The last checkpoint task 0 sent before the stage was lost, or null. */
        EpochState lastCheckpoint() {
            try {
                return meeting.checkpoint();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the stage was failing", e);
            }
        }

        /** Tells the tasks the run is over, and drops the attempt once its job has ended. */
        void finish() {
            meeting.command(0, 0);
            try {
                job.join(java.time.Duration.ofMillis(Mesh.HELLO_MILLIS)); // the tasks read the stop before the close
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            abandon();
        }

        /**
         * Drops the attempt: its connections (tasks waiting for the driver's next word stop), its
         * job, cancelled if it has not ended within moments, and its broadcast.
         */
        void abandon() {
            meeting.close();
            try {
                if (!job.join(java.time.Duration.ofMillis(Mesh.HELLO_MILLIS))) {
                    spark.cancelJobGroup(group);
                    job.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                start.destroy();
            }
        }
    }

    /** The barrier stage's function (the Scala API takes a Scala function of Scala iterators). */
    private static final class Stage
            extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Held>, scala.collection.Iterator<Integer>>
            implements Serializable {
        private final Setup setup;
        private final Broadcast<EpochState> start;

        Stage(Setup setup, Broadcast<EpochState> start) {
            this.setup = setup;
            this.start = start;
        }

        @Override
        public scala.collection.Iterator<Integer> apply(scala.collection.Iterator<Held> held) {
            return scala.jdk.javaapi.CollectionConverters.asScala(
                    run(scala.jdk.javaapi.CollectionConverters.asJava(held), setup, start.value()));
        }
    }

    /** A task's stage: meet the others, connect to them, train the epochs the driver names, and end together. */
    private static Iterator<Integer> run(Iterator<Held> held, Setup s, EpochState start) {
        BarrierTaskContext context = BarrierTaskContext.get();
        int me = context.partitionId();
        List<RowBlock> train = new java.util.ArrayList<>();
        List<RowBlock> test = new java.util.ArrayList<>();
        held.forEachRemaining(h -> (h.test() ? test : train).add(h.block()));
        bp.kernel.KernelWarmup.await(); // started as the executor did (KernelWarmupPlugin), or now
        EpochTask task = s.syncEvery() == 0 ? new SyncEpoch(s, start, train, test, me, s.halt())
                : new LocalSgdEpoch(s, start, train, test, me, s.halt());
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
        try (DriverLink driver = new DriverLink(joined.driver(), s.checkpointEvery());
             Mesh mesh = Mesh.connect(me, joined.addresses(), server, s.secret(), sharedFloats)
                     .stopWhen(context::isInterrupted)) {
            task.connect(mesh, driver);
            task.trainEpochs();
            mesh.finish(); // no task closes its sockets while another still reads
            return java.util.Collections.emptyIterator();
        }
    }
}
