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
     *            vectors added when it is this task's own (which saves copying it)
     * @param rows the shards' rows
     * @param loss their summed loss
     * @param correct their correctly classified rows
     */
    record Totals(float[] sum, int rows, double loss, long correct) {
    }

    /** Floats added at a time: the pieces still in shared memory are copied a block at a time into L1-sized scratch. */
    private static final int BLOCK = 2048;

    private final Mesh mesh;
    private final int me;
    private final int tasks;
    /** Each shard's piece of my chunk in this exchange: my own shards' vectors, or a peer's message. */
    private final float[][] ownPiece;
    private final Mesh.Message[] received;
    private final double[] lossOf;
    private final long[] correctOf;
    private final List<Mesh.Message> early = new ArrayList<>();
    /** The sum's leaves (the shards with rows, in shard order): where each block of each lies. */
    private final float[][] leafArray;
    private final int[] leafOffset;
    private final int[] leafShard;
    private final float[][] scratch;

    /** Two tasks: each sends whole vectors, and adds all of them. */
    private final boolean direct;

    ShardSum(Mesh mesh, int me, int tasks, int shards) {
        this.direct = direct(tasks);
        this.mesh = mesh;
        this.me = me;
        this.tasks = tasks;
        this.ownPiece = new float[shards][];
        this.received = new Mesh.Message[shards];
        this.lossOf = new double[shards];
        this.correctOf = new long[shards];
        this.leafArray = new float[shards][];
        this.leafOffset = new int[shards];
        this.leafShard = new int[shards];
        this.scratch = new float[shards][];
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
     * vector must not change until {@link #sum} returns, which may overwrite it: the sum adds it
     * as it is rather than a copy (a copy of 2 MB a step is not free when two JVMs share the
     * memory bus).
     */
    void send(int shard, float[] vector, int length, int rows, double loss, long correct) {
        for (int c = 0; c < tasks; c++) {
            if (c == me) {
                ownPiece[shard] = vector;
                lossOf[shard] = loss;
                correctOf[shard] = correct;
            } else {
                mesh.send(c, shard, rows, loss, correct, vector, chunkStart(c, length), chunkLength(c, length));
            }
        }
    }

    /**
     * Adds the vectors sent by every task, into {@code out[0, length)} or, in a direct exchange,
     * into the first of them when it is my own ({@link Totals#sum} says which). The fixed tree is
     * applied a block at a time, so a piece that came through shared memory is read where it
     * lies, once, into a block of scratch still in L1 when it is added: the same bits as adding
     * whole vectors.
     *
     * @param shardRows each shard's rows in this exchange, as every task knows them: the shards
     *                  with none sent nothing; the others, mine included, have all been {@link #send sent}
     */
    Totals sum(int[] shardRows, int length, float[] out) {
        int expected = 0;
        for (int v = 0; v < shardRows.length; v++) {
            expected += shardRows[v] > 0 && ownPiece[v] == null ? 1 : 0;
        }
        for (; expected > 0; expected--) {
            Mesh.Message m = next(true);
            received[m.tag()] = m;
            lossOf[m.tag()] = m.loss();
            correctOf[m.tag()] = m.correct();
        }
        int leaves = 0;
        double loss = 0;
        long correct = 0;
        int rows = 0;
        for (int v = 0; v < shardRows.length; v++) {
            if (shardRows[v] > 0) {
                leafShard[leaves++] = v;
                loss += lossOf[v];
                correct += correctOf[v];
                rows += shardRows[v];
            }
        }
        int off = chunkStart(me, length);
        int len = chunkLength(me, length);
        float[] first = ownPiece[leafShard[0]];
        float[] sum = direct && first != null ? first : out;
        for (int b = 0; b < len; b += BLOCK) {
            int n = Math.min(BLOCK, len - b);
            for (int i = 0; i < leaves; i++) {
                place(i, i == 0 && sum == out, off, b, n, out);
            }
            BatchGradient.treeSum(leafArray, leafOffset, leaves, n);
        }
        for (int v = 0; v < shardRows.length; v++) {
            if (received[v] != null) {
                mesh.release(received[v]);
                received[v] = null;
            }
            ownPiece[v] = null;
        }
        for (int c = 0; c < tasks && !direct; c++) {
            if (c != me) {
                mesh.send(c, -1 - me, rows, loss, correct, out, off, len);
            }
        }
        for (int gathered = 1; gathered < tasks && !direct; gathered++) {
            Mesh.Message m = next(false);
            mesh.copy(m, 0, out, chunkStart(-1 - m.tag(), length), m.length());
            mesh.release(m);
        }
        return new Totals(sum, rows, loss, correct);
    }

    /**
     * Points leaf {@code i} at its floats {@code [b, b + n)} of my chunk (at {@code off} of the
     * whole vector): in my own vector; or copied, into {@code out} for a first leaf that is not mine
     * (the sum accumulates there), else into scratch.
     */
    private void place(int i, boolean intoOut, int off, int b, int n, float[] out) {
        int v = leafShard[i];
        Mesh.Message m = received[v];
        if (intoOut) {
            if (m != null) {
                mesh.copy(m, b, out, off + b, n);
            } else {
                System.arraycopy(ownPiece[v], off + b, out, off + b, n);
            }
            leafArray[i] = out;
            leafOffset[i] = off + b;
        } else if (m != null) {
            if (scratch[i] == null) {
                scratch[i] = new float[BLOCK];
            }
            mesh.copy(m, b, scratch[i], 0, n);
            leafArray[i] = scratch[i];
            leafOffset[i] = 0;
        } else {
            leafArray[i] = ownPiece[v];
            leafOffset[i] = off + b;
        }
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
