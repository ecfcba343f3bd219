package bp.engine;

import bp.kernel.Alignment;
import bp.nn.Network;

/**
 * A copy of a network's weight matrices packed for the forward pass (transposed to {@code [in, out]}
 * panel by panel, see {@code Kernels.packRows}), the layout in which {@code Z = A·Wᵀ + b} streams
 * contiguous vectors of W (see {@code Kernels.gemmPackedBias}). The trainer refreshes it after every update; the refresh is
 * split into independent row blocks so that it runs in parallel. Layer l's transposed weights
 * start at {@link #offset(int)}, on a cache line where {@link Alignment} knows where lines are.
 * An inference copy (for predictions and evaluations) also holds the weights of the layers that a
 * prediction of many rows reads in blocks of units ({@code Kernels.gemmBlocksBias}).
 */
public final class TransposedWeights {

    /** Rows of W per refresh task: enough work per task, enough tasks for every core. */
    private static final int ROWS_PER_TASK = 64;

    private final Network net;
    private final float[] t;
    /** Where each layer's copy starts in {@link #t}. */
    private final int[] offsets;
    private final int[] taskLayer;
    private final int[] taskRow;
    /** The network's {@link NetworkInternals#parameterVersion parameter version} this copy holds. */
    private int version;

    /**
     * Layers whose forward pass reads this copy; the others (narrower than the kernels' vectors
     * make worth it: the output layer of 10 units on AVX-512) go as dot products on the weights,
     * and re-packing them after every update was a scalar transpose for nothing (0.7 % of a step).
     */
    private final boolean[] packs;
    /** Layers whose forward pass in training reads the weights in place: not in this copy either. */
    private final boolean[] inPlace;
    /**
     * An inference copy's second copy, of the layers whose kernels {@link
     * bp.kernel.Kernels#weightBlocksPay prefer} their weights in blocks of units for a prediction
     * of many rows (from {@link #offset(int)}, as in {@link #t}); null in the trainer's copies and
     * where no layer does.
     */
    private final float[] blocks;
    private final boolean[] blocked;

    /**
     * Allocates the copy of every layer whose forward pass reads one, and of those that read their
     * weights in blocks in a prediction of many rows, and fills them from {@code net}'s current
     * weights: an inference copy, which {@link #refresh()} brings up to date as a whole.
     */
    public TransposedWeights(Network net) {
        this(net, Integer.MAX_VALUE, false, true);
    }

    /**
     * Allocates the copy for training with batches of {@code batch} rows and fills it from {@code
     * net}'s current weights: it leaves out the layers whose forward pass then reads the weights in
     * place ({@link Workspace#forwardReadsWeightsInPlace}), so that an update does not re-pack them.
     * The forward pass gives the same bits either way. {@code oneThread}: whether one thread runs
     * each step's forward pass.
     */
    public TransposedWeights(Network net, int batch, boolean oneThread) {
        this(net, batch, oneThread, false);
    }

    private TransposedWeights(Network net, int batch, boolean oneThread, boolean inference) {
        this.net = net;
        this.offsets = new int[net.layerCount()];
        int end = 0;
        for (int l = 0; l < offsets.length; l++) {
            offsets[l] = Alignment.lineStart(end);
            end = offsets[l] + net.weightRows(l) * net.size(l);
        }
        this.t = new float[end];
        this.packs = new boolean[net.layerCount()];
        this.inPlace = new boolean[net.layerCount()];
        for (int l = 0; l < packs.length; l++) {
            inPlace[l] = Workspace.forwardReadsWeightsInPlace(net, l, batch, oneThread);
            packs[l] = NetworkInternals.kernels(net).transposedForwardPays(net.weightRows(l)) && !inPlace[l];
        }
        this.blocked = new boolean[net.layerCount()];
        boolean anyBlocked = false;
        for (int l = 0; l < blocked.length; l++) {
            blocked[l] = inference && packs[l] && NetworkInternals.kernels(net).weightBlocksPay(net.weightRows(l));
            anyBlocked |= blocked[l];
        }
        this.blocks = anyBlocked ? new float[end] : null;
        int tasks = 0;
        for (int l = 0; l < net.layerCount(); l++) {
            tasks += ceilDiv(net.weightRows(l), ROWS_PER_TASK);
        }
        taskLayer = new int[tasks];
        taskRow = new int[tasks];
        int task = 0;
        for (int l = 0; l < net.layerCount(); l++) {
            for (int r = 0; r < net.weightRows(l); r += ROWS_PER_TASK) {
                taskLayer[task] = l;
                taskRow[task] = r;
                task++;
            }
        }
        refresh();
    }

    /** Independent pieces of {@link #refresh(int)}. */
    public int tasks() {
        return taskLayer.length;
    }

    /** Re-copies one piece of the weights (a block of rows of one layer). */
    public void refresh(int task) {
        int l = taskLayer[task];
        int r0 = taskRow[task];
        refreshRows(l, r0, Math.min(net.weightRows(l), r0 + ROWS_PER_TASK));
    }

    /** Re-packs rows (units) {@code [r0, r1)} of layer {@code l}'s weights. */
    public void refreshRows(int l, int r0, int r1) {
        if (!packs[l]) {
            return;
        }
        NetworkInternals.kernels(net).packRows(net.parameters(), net.weightOffset(l), net.weightRows(l), net.size(l),
                r0, r1, t, offsets[l]);
    }

    /** Re-copies all the weights, into both copies. */
    public void refresh() {
        for (int task = 0; task < tasks(); task++) {
            refresh(task);
        }
        for (int l = 0; l < blocked.length; l++) {
            if (blocked[l]) {
                NetworkInternals.kernels(net).packWeightBlocks(net.parameters(), net.weightOffset(l), net.weightRows(l),
                        net.size(l), blocks, offsets[l]);
            }
        }
        version = NetworkInternals.parameterVersion(net);
    }

    /** Re-copies all the weights if the network's parameters were said to change since this copy was made. */
    public void refreshIfChanged() {
        if (version != NetworkInternals.parameterVersion(net)) {
            refresh();
        }
    }

    /**
     * Says that every row has been {@link #refreshRows re-packed} since the parameters last
     * changed (as an update that refreshes each block it writes does): the copy is current.
     */
    public void refreshedAll() {
        version = NetworkInternals.parameterVersion(net);
    }

    /** Whether layer l's forward pass reads the weights in place (this copy does not hold the layer). */
    boolean readsInPlace(int l) {
        return inPlace[l];
    }

    /** Whether layer l's weights are also in {@link #blocks()}, from {@link #offset(int)}. */
    boolean blocked(int l) {
        return blocked[l];
    }

    float[] blocks() {
        return blocks;
    }

    /** Whether layer l's forward pass reads this copy (else it goes as dot products on the weights, or in place). */
    boolean packs(int l) {
        return packs[l];
    }

    Network network() {
        return net;
    }

    float[] array() {
        return t;
    }

    /** Where layer l's copy starts in {@link #array()}. */
    int offset(int l) {
        return offsets[l];
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
