package bp.spark;

import bp.engine.BatchGradient;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Adds one vector per virtual shard across a barrier stage's tasks, to the same bits on every task
 * whatever the number of tasks. Reduce-scatter: the vector is cut into one chunk per task, and
 * every shard's piece of chunk c goes to task c, which adds the pieces in a fixed binary tree in
 * shard order. All-gather: task c sends its chunk's sum to every other task. Between two tasks
 * that moves as many bytes as each sending its whole vectors to the other, which needs one round
 * of messages instead of two: then both add everything, in the same tree.
 *
 * <p>Each task calls {@link #send} for each of its shards that has rows in the exchange, as soon
 * as the shard's vector is ready (so the next shard's work overlaps the sending), then
 * {@link #sum}.
 */
final class ShardSum {

    /**
     * A sum and what stands behind it.
     *
     * @param sum the array holding the sum: {@code out}, or in a direct exchange the first of the
     *            vectors added (which saves copying it), valid until the next exchange
     * @param rows the shards' rows
     * @param loss their summed loss
     * @param correct their correctly classified rows
     */
    record Totals(float[] sum, int rows, double loss, long correct) {
    }

    private final Mesh mesh;
    private final int me;
    private final int tasks;
    /** Each shard's piece of my chunk in this exchange. */
    private final float[][] pieces;
    private final double[] lossOf;
    private final long[] correctOf;
    /** Which pieces came from the mesh, to hand back their arrays. */
    private final boolean[] received;
    /** My shards' pieces of my chunk, reused from exchange to exchange. */
    private final float[][] own;
    private final List<Mesh.Message> early = new ArrayList<>();
    /** A received array that holds the last direct exchange's sum, handed back at the next exchange. */
    private float[] held;

    /** Two tasks: each sends whole vectors, and adds all of them. */
    private final boolean direct;

    ShardSum(Mesh mesh, int me, int tasks, int shards) {
        this.direct = direct(tasks);
        this.mesh = mesh;
        this.me = me;
        this.tasks = tasks;
        this.pieces = new float[shards][];
        this.lossOf = new double[shards];
        this.correctOf = new long[shards];
        this.received = new boolean[shards];
        this.own = new float[shards][];
    }

    /** {@return whether {@code tasks} tasks exchange whole vectors: two, whose bytes are the same either way} */
    private static boolean direct(int tasks) {
        return tasks == 2;
    }

    /** {@return the largest message, in floats, when the vectors have {@code length} floats} */
    static int largestMessage(int length, int tasks) {
        return direct(tasks) ? length : (length + tasks - 1) / tasks;
    }

    /** Where task c's chunk starts: the whole vector is everyone's when the exchange is direct. */
    private int chunkStart(int c, int length) {
        return direct ? 0 : (int) ((long) length * c / tasks);
    }

    private int chunkLength(int c, int length) {
        return direct ? length : (int) ((long) length * (c + 1) / tasks) - chunkStart(c, length);
    }

    /**
     * Sends {@code vector[0, length)}, shard {@code shard}'s, to the tasks that own its chunks. The
     * vector must not change until {@link #sum} returns, which may overwrite it: a direct exchange
     * adds it as it is rather than a copy (a copy of 2 MB a step is not free when two JVMs share
     * the memory bus).
     */
    void send(int shard, float[] vector, int length, int rows, double loss, long correct) {
        for (int c = 0; c < tasks; c++) {
            int off = chunkStart(c, length);
            int len = chunkLength(c, length);
            if (c == me && direct) {
                accept(shard, vector, loss, correct);
            } else if (c == me) {
                if (own[shard] == null || own[shard].length != len) {
                    own[shard] = new float[len];
                }
                System.arraycopy(vector, off, own[shard], 0, len);
                accept(shard, own[shard], loss, correct);
            } else {
                mesh.send(c, shard, rows, loss, correct, vector, off, len);
            }
        }
    }

    private void accept(int shard, float[] piece, double loss, long correct) {
        pieces[shard] = piece;
        lossOf[shard] = loss;
        correctOf[shard] = correct;
    }

    /**
     * Adds the vectors sent by every task, into {@code out[0, length)} or, in a direct exchange,
     * into the first of them ({@link Totals#sum} says which).
     *
     * @param shardRows each shard's rows in this exchange, as every task knows them: the shards
     *                  with none sent nothing; the others, mine included, have all been {@link #send sent}
     */
    Totals sum(int[] shardRows, int length, float[] out) {
        if (held != null) {
            mesh.recycle(held);
            held = null;
        }
        int expected = 0;
        for (int v = 0; v < shardRows.length; v++) {
            expected += shardRows[v] > 0 && pieces[v] == null ? 1 : 0; // mine are in already
        }
        for (; expected > 0; expected--) {
            Mesh.Message m = next(true);
            accept(m.tag(), m.values(), m.loss(), m.correct());
            received[m.tag()] = true;
        }
        List<float[]> used = new ArrayList<>();
        double loss = 0;
        long correct = 0;
        int rows = 0;
        for (int v = 0; v < shardRows.length; v++) {
            if (shardRows[v] > 0) {
                used.add(pieces[v]);
                loss += lossOf[v];
                correct += correctOf[v];
                rows += shardRows[v];
            }
        }
        float[][] tree = used.toArray(new float[0][]);
        int off = chunkStart(me, length);
        int len = chunkLength(me, length);
        BatchGradient.treeSum(tree, tree.length, 0, len);
        float[] sum = direct ? tree[0] : out;
        if (!direct) {
            System.arraycopy(tree[0], 0, out, off, len);
        }
        for (int c = 0; c < tasks && !direct; c++) {
            if (c != me) {
                mesh.send(c, -1 - me, rows, loss, correct, out, off, len);
            }
        }
        for (int gathered = 1; gathered < tasks && !direct; gathered++) {
            Mesh.Message m = next(false);
            int c = -1 - m.tag();
            System.arraycopy(m.values(), 0, out, chunkStart(c, length), m.values().length);
            mesh.recycle(m.values());
        }
        for (int v = 0; v < pieces.length; v++) {
            if (received[v]) {
                if (pieces[v] == sum) {
                    held = sum;
                } else {
                    mesh.recycle(pieces[v]);
                }
                received[v] = false;
            }
            pieces[v] = null;
        }
        return new Totals(sum, rows, loss, correct);
    }

    /**
     * The next message of the kind wanted: a shard's piece or a gathered chunk. A peer that has
     * gone on to the next exchange may send its piece before another peer's chunk of this one has
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
