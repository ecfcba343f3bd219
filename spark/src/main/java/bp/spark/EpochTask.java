package bp.spark;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.engine.NetworkInternals;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;
import bp.nn.Network;
import bp.train.EvaluationSums;
import bp.train.Optimizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A task's part of a {@link MeshTraining} stage, which lasts the whole run: its shards (the blocks
 * it holds, each with its rows in the shard's own order for the epoch), its network, workspace and
 * optimizer state, kept from epoch to epoch, and the exchanges with the other tasks. The driver
 * names each epoch to train; after it, task 0 sends the state every task now holds, and every task
 * the figures of its test blocks.
 */
abstract class EpochTask {

    protected final MeshTraining.Setup s;
    protected final Optimizer optimizer;
    /** My shards with rows, their data and their order for the epoch. */
    protected final List<RowBlock> mine = new ArrayList<>();
    protected final List<Dataset> data = new ArrayList<>();
    protected final List<int[]> orders = new ArrayList<>();
    /** My test blocks with rows. */
    private final List<RowBlock> test = new ArrayList<>();
    /** The exchanges with the other tasks, once connected. */
    protected ShardSum exchange;
    private DriverLink driver;
    /** The epoch being trained, and its learning rate. */
    protected int epoch;
    protected double learningRate;
    /** Where the epoch starts: the exchange, and the loss and correct rows before it. */
    protected int from;
    protected double lossBefore;
    protected long correctBefore;
    /** Where the attempt starts, until its first epoch has begun. */
    private MeshTraining.EpochState resume;
    private final int me;
    /** The epoch and exchange before which this task halts its JVM (tests), or −1. */
    private final int haltEpoch;
    private final int haltExchange;

    /**
     * @param start the state the attempt starts from
     * @param halt tests: "epoch:exchange:task" at which a task halts its JVM, or null
     */
    EpochTask(MeshTraining.Setup s, MeshTraining.EpochState start, List<RowBlock> train, List<RowBlock> testBlocks,
              int me, String halt) {
        this.s = s;
        this.me = me;
        this.optimizer = s.optimizer();
        this.resume = start;
        for (RowBlock b : train) {
            if (b.rows() > 0) {
                mine.add(b);
                data.add(b.dataset(s.name(), s.classes()));
                orders.add(null);
            }
        }
        for (RowBlock b : testBlocks) {
            if (b.rows() > 0) {
                test.add(b);
            }
        }
        String[] at = halt == null ? null : halt.split(":");
        boolean halts = at != null && Integer.parseInt(at[2]) == me;
        this.haltEpoch = halts ? Integer.parseInt(at[0]) : -1;
        this.haltExchange = halts ? Integer.parseInt(at[1]) : -1;
    }

    /** {@return the floats of the vectors the exchanges add (each task receives a chunk of it at a time)} */
    abstract int exchangedFloats();

    /** {@return the network every task holds after an exchange} */
    abstract Network model();

    /** Starts the stage's work over {@code mesh}, told what to do through {@code driver}. */
    final void connect(Mesh mesh, DriverLink driver) {
        this.exchange = new ShardSum(mesh, me, s.tasks(), s.shardRows().length);
        this.driver = driver;
    }

    /**
     * Trains the epochs the driver names until it says the run is over; every task ends each with
     * the same network and optimizer state.
     */
    final void trainEpochs() {
        for (DriverLink.Command c; (c = driver.next()) != null; ) {
            begin(c);
            MeshTraining.EpochState end = train();
            if (me == 0) {
                driver.sendEpochEnd(end);
            }
            if (s.evaluates()) {
                driver.sendEvaluation(evaluate());
            }
        }
    }

    private void begin(DriverLink.Command c) {
        epoch = c.epoch();
        learningRate = c.learningRate();
        if (resume != null && resume.epoch() != epoch) {
            throw new IllegalStateException("the attempt starts at epoch " + resume.epoch() + ", not " + epoch);
        }
        from = resume == null ? 0 : resume.done();
        lossBefore = resume == null ? 0 : resume.lossSum();
        correctBefore = resume == null ? 0 : resume.correct();
        resume = null;
        for (int i = 0; i < mine.size(); i++) {
            orders.set(i, mine.get(i).epochOrder(s.seed(), epoch));
        }
    }

    /** Trains this epoch from exchange {@link #from}, and returns the state at its end. */
    abstract MeshTraining.EpochState train();

    /** The sums of my test blocks, by the model as the epoch left it (the driver puts them in partition order). */
    private List<DriverLink.BlockSums> evaluate() {
        List<DriverLink.BlockSums> sums = new ArrayList<>(test.size());
        for (RowBlock b : test) {
            sums.add(new DriverLink.BlockSums(b.partition(), EvaluationSums.of(model(), b.dataset(s.testName(),
                    s.classes()))));
        }
        return sums;
    }

    /**
     * After {@code done} of the epoch's {@code total} exchanges, sends the driver the state every
     * task now holds when a checkpoint is due (task 0 only).
     */
    protected final void checkpointIfDue(int done, int total, Network net, Optimizer.State state, double loss,
                                         long correct) {
        if (me == 0 && driver.due(done, total)) {
            driver.sendCheckpoint(new MeshTraining.EpochState(net.parameters(), state.steps(), state.buffers(), epoch,
                    done, loss, correct));
        }
    }

    /** Halts the JVM, as if the executor were killed, when the tests asked for it at this exchange. */
    protected final void haltIfAsked(int exchange) {
        if (epoch == haltEpoch && exchange == haltExchange) {
            Runtime.getRuntime().halt(137);
        }
    }

    /**
     * Each shard's rows in {@code [from, from + size)} of its order, for every shard of the stage, into
     * {@code out}.
     */
    protected final int[] shardRows(long from, int size, int[] out) {
        long[] all = s.shardRows();
        for (int v = 0; v < all.length; v++) {
            out[v] = (int) Math.max(0, Math.min(size, all[v] - from));
        }
        return out;
    }

    /** Exchanges until every shard has gone through its rows in slices of {@code size}. */
    protected final int exchanges(int size) {
        long most = 0;
        for (long n : s.shardRows()) {
            most = Math.max(most, n);
        }
        return (int) ((most + size - 1) / size);
    }

    /**
     * The summed gradient of rows {@code [from, from + rows)} of my shard {@code i}'s order at
     * {@code net}'s parameters, into {@code grad}, through {@code ws} in passes of {@code passRows};
     * returns the summed loss and adds the rows classified correctly to {@code correct[0]}.
     */
    protected final double gradient(Network net, Workspace ws, int passRows, int i, int from, int rows, float[] grad,
                                    int[] correct) {
        TransposedWeights transposed = BatchGradient.usesTransposedWeights(rows)
                ? NetworkInternals.transposedWeights(net) : null;
        return BatchGradient.group(net, transposed, ws, data.get(i), orders.get(i), from, rows, passRows, 1, 0, grad,
                correct, 0);
    }
}
