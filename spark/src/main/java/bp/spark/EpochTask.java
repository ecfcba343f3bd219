package bp.spark;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.engine.NetworkInternals;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;
import bp.nn.Network;
import bp.train.Optimizer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A task's part of an epoch of {@link MeshTraining}: its shards (the blocks it holds, each with
 * its rows in the shard's own order for the epoch), and the exchanges with the other tasks.
 */
abstract class EpochTask {

    protected final MeshTraining.Setup s;
    protected final int epoch;
    protected final Optimizer optimizer;
    /** My shards with rows, their data and their order for the epoch. */
    protected final List<RowBlock> mine = new ArrayList<>();
    protected final List<Dataset> data = new ArrayList<>();
    protected final List<int[]> orders = new ArrayList<>();
    /** The exchanges with the other tasks, once connected. */
    protected ShardSum exchange;
    /** Task 0's checkpoints to the driver. */
    private Checkpoints checkpoints;
    /** Where this attempt starts: the exchange, and the loss and correct rows before it. */
    protected final int from;
    protected final double lossBefore;
    protected final long correctBefore;
    private final int me;
    /** The exchange before which this task halts its JVM (tests), or −1. */
    private final int haltAt;

    EpochTask(MeshTraining.Setup s, MeshTraining.Start start, Iterator<RowBlock> blocks, int me, int haltAt) {
        this.s = s;
        this.me = me;
        this.epoch = start.epoch();
        this.optimizer = start.optimizer();
        this.haltAt = haltAt;
        this.from = start.from();
        this.lossBefore = start.lossSum();
        this.correctBefore = start.correct();
        blocks.forEachRemaining(b -> {
            if (b.rows() > 0) {
                mine.add(b);
                data.add(b.dataset(s.name(), s.classes()));
                orders.add(b.epochOrder(s.seed(), epoch));
            }
        });
    }

    /** {@return the floats of the vectors the exchanges add (each task receives a chunk of it at a time)} */
    abstract int exchangedFloats();

    /** Trains the epoch over {@code mesh}; every task ends with the same network and optimizer state. */
    final MeshTraining.Result run(Mesh mesh, Checkpoints checkpoints) {
        this.exchange = new ShardSum(mesh, me, s.tasks(), s.shardRows().length);
        this.checkpoints = checkpoints;
        return train();
    }

    /**
     * After {@code done} of the epoch's {@code total} exchanges, sends the driver the state every
     * task now holds when a checkpoint is due (task 0 only).
     */
    protected final void checkpointIfDue(int done, int total, Network net, Optimizer.State state, double loss,
                                         long correct) {
        if (checkpoints.due(done, total)) {
            checkpoints.send(new MeshTraining.Start(net.parameters(), state.steps(), state.buffers(), null, epoch,
                    done, loss, correct));
        }
    }

    abstract MeshTraining.Result train();

    /** Halts the JVM, as if the executor were killed, when the tests asked for it at this exchange. */
    protected final void haltIfAsked(int exchange) {
        if (exchange == haltAt) {
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
