package bp.engine;

import bp.data.Dataset;
import bp.kernel.Kernels;
import bp.nn.Network;

/**
 * How the gradient of one mini-batch is cut up and summed, the same wherever it is computed (the
 * {@link bp.train.Trainer}'s threads, or the executors of a {@link bp.train.GradientSource}): the batch is cut
 * into shards of a fixed size; consecutive shards form at most {@value #MAX_GROUPS} groups, each
 * summed shard after shard into its own buffer; the group sums are added in a fixed binary tree,
 * {@code (g0 + g1) + (g2 + g3)}, …. Computing an aligned block of {@link #blockSize} groups in one
 * place and adding the blocks in the same tree gives the same bits as computing all groups in one
 * place, which is what makes distributed training identical to local training.
 */
public final class BatchGradient {

    /** Upper bound on gradient buffers per batch: bounds memory for full-batch training. */
    public static final int MAX_GROUPS = 16;
    /** Smallest batch trained through {@link TransposedWeights}; measured with bench/run train. */
    static final int TRANSPOSED_MIN_BATCH = 8;

    private BatchGradient() {
    }

    /** Gradient buffers (groups) for batches of {@code batch} rows cut into shards of {@code shard}. */
    public static int groups(int batch, int shard) {
        return Math.min(ceilDiv(batch, shard), MAX_GROUPS);
    }

    /** Groups of a batch of {@code size} rows (the last batch of an epoch may be smaller than {@code batch}). */
    public static int groupsUsed(int size, int batch, int shard) {
        return Math.min(ceilDiv(size, shard), groups(batch, shard));
    }

    /** Whether the forward pass reads transposed weights for this batch size (it changes the arithmetic). */
    public static boolean usesTransposedWeights(int batch) {
        return batch >= TRANSPOSED_MIN_BATCH;
    }

    /** Groups per block (a power of two) so that {@code used} groups fit in at most {@code places} blocks. */
    public static int blockSize(int used, int places) {
        int size = 1;
        while (ceilDiv(used, size) > Math.max(1, places)) {
            size *= 2;
        }
        return size;
    }

    /**
     * Computes group {@code g} of the batch {@code order[from, from + size)}: its shards in order,
     * through {@code ws}, into {@code grad} (overwritten). Returns the summed loss; adds the rows
     * classified correctly to {@code correct[slot]}.
     *
     * @param transposed the network's transposed weights when {@link #usesTransposedWeights}, else null
     */
    public static double group(Network net, TransposedWeights transposed, Workspace ws, Dataset data, int[] order,
                               int from, int size, int shard, int used, int g, float[] grad, int[] correct, int slot) {
        int shards = ceilDiv(size, shard);
        int first = g * shards / used;
        double loss = 0;
        for (int s = first; s < (g + 1) * shards / used; s++) {
            int rowFrom = from + s * shard;
            int rows = Math.min(shard, from + size - rowFrom);
            gather(data, order, rowFrom, 0, rows, ws);
            ws.forward(net, transposed, rows);
            if (data.isClassification()) {
                correct[slot] += ws.countCorrect(rows, net.outputs());
            }
            loss += ws.backward(net, rows, grad, s != first);
        }
        return loss;
    }

    /**
     * Computes groups {@code [g0, g1)} of the batch {@code order[from, from + size)} (an aligned
     * block, see {@link #blockSize}) at the network's current parameters, in parallel on the common
     * ForkJoin pool, and writes their tree sum to {@code out}. Each group's loss goes to
     * {@code groupLosses[g - g0]}; returns the rows classified correctly. Allocates its buffers: for
     * executors that get a new network each step.
     */
    public static long block(Network net, Dataset data, int[] order, int from, int size, int batch, int shard,
                             int g0, int g1, float[] out, double[] groupLosses) {
        int used = groupsUsed(size, batch, shard);
        if (g0 < 0 || g1 > used || g0 >= g1) {
            throw new IllegalArgumentException("groups [" + g0 + ", " + g1 + ") outside the batch's " + used);
        }
        TransposedWeights transposed = usesTransposedWeights(batch) ? new TransposedWeights(net, batch, false) : null;
        float[][] grads = new float[g1 - g0][];
        grads[0] = out;
        for (int i = 1; i < grads.length; i++) {
            grads[i] = new float[net.parameterCount()];
        }
        int[] correct = new int[g1 - g0];
        java.util.stream.IntStream.range(g0, g1).parallel().forEach(g -> {
            Workspace ws = new Workspace(net, Math.min(shard, batch));
            groupLosses[g - g0] = group(net, transposed, ws, data, order, from, size, shard, used, g, grads[g - g0],
                    correct, g - g0);
        });
        treeSum(grads, grads.length, 0, out.length);
        long total = 0;
        for (int c : correct) {
            total += c;
        }
        return total;
    }

    /** {@code buffers[0] = Σ buffers[0, count)} in the fixed tree order, over {@code [off, off + len)}. */
    public static void treeSum(float[][] buffers, int count, int off, int len) {
        treeSum(buffers, null, off, count, len);
    }

    /**
     * The same tree over {@code len} floats of each buffer, buffer i's from {@code offsets[i]}:
     * the sum lands in {@code buffers[0]} from {@code offsets[0]}.
     */
    public static void treeSum(float[][] buffers, int[] offsets, int count, int len) {
        treeSum(buffers, offsets, 0, count, len);
    }

    /** The one tree both sums take (so that bp-spark adds as the trainer does): buffers at {@code offsets}, or all at {@code off}. */
    private static void treeSum(float[][] buffers, int[] offsets, int off, int count, int len) {
        Kernels k = Kernels.get();
        for (int stride = 1; stride < count; stride *= 2) {
            for (int dst = 0; dst + stride < count; dst += 2 * stride) {
                int src = dst + stride;
                k.axpy(1f, buffers[src], offsets == null ? off : offsets[src], buffers[dst],
                        offsets == null ? off : offsets[dst], len);
            }
        }
    }

    /**
     * Copies the rows {@code order[from + r0 .. from + r1)} into rows {@code [r0, r1)} of the
     * workspace's contiguous input and target buffers.
     */
    public static void gather(Dataset data, int[] order, int from, int r0, int r1, Workspace ws) {
        int fin = data.featureCount();
        int fout = data.targetWidth();
        float[] y = data.targets();
        Kernels.get().gatherRows(data.features(), fin, order, from + r0, r1 - r0, ws.input(), ws.offset() + r0 * fin);
        for (int r = r0; r < r1; r++) {
            int i = order[from + r];
            System.arraycopy(y, i * fout, ws.target(), ws.offset() + r * fout, fout);
            if (data.isClassification()) {
                ws.labels()[r] = data.label(i);
            }
        }
    }

    public static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Largest shard by default: its workspace (about 2.5 KB a row for 784-512-256-10) stays near L2's size. */
    public static final int MAX_DEFAULT_SHARD = 256;

    /**
     * The shard size when none is set: the whole batch, up to {@value #MAX_DEFAULT_SHARD} rows.
     * All threads share each shard's matrix products (see the trainer's step), so a shard needs no
     * minimum size to keep them busy, and a batch that is one shard needs no gradient buffers to
     * add up. It depends on the batch only, never on the thread count, so results do not change
     * with threads.
     */
    public static int defaultShardSize(int batch) {
        return Math.min(batch, MAX_DEFAULT_SHARD);
    }
}
