package bp.engine;

import bp.kernel.Alignment;
import bp.kernel.Elementwise;
import bp.kernel.Kernels;
import bp.nn.Activation;
import bp.nn.Network;

import java.util.Objects;

/**
 * The buffers of one batch (a shard of at most {@link #capacity()} samples) going forward and
 * backward through a network: inputs, targets, each layer's pre-activations {@code Z}, activations
 * {@code A} and gradients by Z and by A. Allocated once and reused, so a training step allocates
 * nothing.
 *
 * <p>The passes come in pieces that several threads may run at once on one workspace (the
 * trainer's phases): the forward pass and the loss by blocks of rows ({@link #rowBlock}), the
 * weight gradient by blocks of units, the input gradient by blocks of rows or by chunks of units
 * ({@link #INPUT_GRADIENT_CHUNK}). Every value is computed
 * the same way whichever piece or thread computes it, and the whole-batch methods
 * ({@link #forward}, {@link #backward}) run the same pieces in order, so all give the same bits.
 *
 * <p>Row r of every float array here (input, target, each layer's z, a and gradients) starts at
 * {@link #offset()} {@code + r × width}: on a cache line when {@link Alignment} knows where lines
 * are, so that the kernels stream whole lines.
 */
public final class Workspace {

    private final int capacity;
    /** Where row 0 starts in every float array: {@link Alignment#ORIGIN}. */
    private final int o = Alignment.ORIGIN;
    private final float[] input;
    private final float[] target;
    private final int[] labels;
    private final float[][] z;
    private final float[][] a;
    /** ∂L/∂z of each layer: {@code capacity × weightRows(l)}. */
    private final float[][] dz;
    /** ∂L/∂a of each layer: the same array as dz[l] except where z is wider than a (maxout). */
    private final float[][] da;
    private final double[] rowLoss;
    /**
     * Layer l's input gradient by chunks ({@link #inputGradientByChunks}): the products of chunks
     * 1, 2, … ({@code capacity × size(l)} each, in chunk order), chunk 0's going straight into
     * ∂L/∂a of layer l − 1; null for the other layers.
     */
    private final float[][] chunkProducts;

    /**
     * Units of a layer per partial product of its input gradient, up to 1024 units: ∂L/∂a of
     * layer l − 1 is {@code Σ_t Δ_l[:, chunk t] · W_l[chunk t, :]}, each product's sum taken from
     * zero and the products added in chunk order. Fixed by the layer's width alone, so that the
     * same bits come out whether the products are computed a block of rows at a time
     * ({@link #inputGradientRows}) or a chunk at a time for all rows, each by the thread that
     * owns the chunk's weights ({@link #inputGradientChunk}). Wider layers take wider chunks
     * ({@link #inputGradientChunkUnits}).
     */
    public static final int INPUT_GRADIENT_CHUNK = 128;

    /**
     * The most chunks a layer's input gradient is summed over: each costs a pass over the rows'
     * input gradient, and each but the first a buffer of it ({@code capacity × fan-in}).
     */
    static final int MAX_INPUT_GRADIENT_CHUNKS = 8;

    public Workspace(Network net, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("workspace capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        input = rows(capacity, net.inputs());
        target = rows(capacity, net.outputs());
        labels = new int[capacity];
        rowLoss = new double[capacity];
        int layers = net.layerCount();
        z = new float[layers][];
        a = new float[layers][];
        dz = new float[layers][];
        da = new float[layers][];
        for (int l = 0; l < layers; l++) {
            z[l] = rows(capacity, net.weightRows(l));
            a[l] = rows(capacity, net.size(l + 1));
            dz[l] = rows(capacity, net.weightRows(l));
            da[l] = net.weightRows(l) == net.size(l + 1) ? dz[l] : rows(capacity, net.size(l + 1));
        }
        chunkProducts = new float[layers][];
        for (int l = 1; l < layers; l++) {
            if (inputGradientByChunks(net, l)) {
                chunkProducts[l] = rows((inputGradientChunks(net, l) - 1) * capacity, net.size(l));
            }
        }
    }

    /** An array of {@code count} rows of {@code width} floats from {@link #offset()}. */
    private float[] rows(int count, int width) {
        return new float[o + count * width];
    }

    /** {@return where row 0 starts in each of this workspace's float arrays (see the class comment)} */
    public int offset() {
        return o;
    }

    /**
     * {@return the units of layer l per chunk of its input gradient: {@link #INPUT_GRADIENT_CHUNK},
     * or the smallest multiple of it that cuts the layer into at most {@link #MAX_INPUT_GRADIENT_CHUNKS}}
     */
    public static int inputGradientChunkUnits(Network net, int l) {
        int blocks = ceilDiv(net.weightRows(l), INPUT_GRADIENT_CHUNK);
        return INPUT_GRADIENT_CHUNK * ceilDiv(blocks, MAX_INPUT_GRADIENT_CHUNKS);
    }

    /** {@return the chunks of layer l's units that its input gradient is summed over} */
    public static int inputGradientChunks(Network net, int l) {
        return ceilDiv(net.weightRows(l), inputGradientChunkUnits(net, l));
    }

    /**
     * Whether layer l's input gradient can also be computed a chunk at a time ({@link #inputGradientChunk}),
     * then finished by blocks of layer l − 1's units ({@link #finishInputGradientColumns}): it has
     * more than one chunk, of {@link #INPUT_GRADIENT_CHUNK} units, and layer l − 1's activation
     * works one value at a time.
     */
    public static boolean inputGradientByChunks(Network net, int l) {
        return l > 0 && inputGradientChunks(net, l) > 1 && inputGradientChunkUnits(net, l) == INPUT_GRADIENT_CHUNK
                && NetworkInternals.elementwise(net, l - 1) != null;
    }

    /**
     * Rows per block of the row-wise pieces for a shard of {@code rows}: four blocks of a multiple
     * of 8 rows (up to 8 rows, one block). It depends on the rows alone, so the bits do too.
     */
    public static int rowBlock(int rows) {
        return rows <= 8 ? Math.max(rows, 1) : (ceilDiv(rows, 4) + 7) / 8 * 8;
    }

    /** Number of row blocks of a shard of {@code rows}. */
    public static int rowBlocks(int rows) {
        return ceilDiv(rows, rowBlock(rows));
    }

    public int capacity() {
        return capacity;
    }

    /** Input rows to fill before {@link #forward}: {@code capacity × inputs} from {@link #offset()}. */
    public float[] input() {
        return input;
    }

    /** Target rows to fill before {@link #backward}: {@code capacity × outputs} from {@link #offset()}. */
    public float[] target() {
        return target;
    }

    /** Class labels of the rows, for {@link #countCorrect}: {@code capacity} entries. */
    public int[] labels() {
        return labels;
    }

    /** Layer {@code layer}'s activations after {@link #forward}: {@code rows × units}, row by row from {@link #offset()}. */
    public float[] activations(int layer) {
        return a[layer];
    }

    /** The output layer's activations after {@link #forward}, from {@link #offset()}. */
    public float[] output() {
        return a[a.length - 1];
    }

    /**
     * Runs the first {@code rows} input rows through the network, one dot product per output (the
     * matrix-vector form, best for a row or two: nothing to prepare).
     */
    public void forward(Network net, int rows) {
        forward(net, null, rows);
    }

    /**
     * Runs the first {@code rows} input rows through the network using {@code transposed}, which
     * must be up to date with {@code net}'s weights (null: as {@link #forward(Network, int)}),
     * {@link #FORWARD_BLOCK} rows at a time through every layer.
     */
    public void forward(Network net, TransposedWeights transposed, int rows) {
        forward(net, transposed, input, o, rows);
    }

    /**
     * As {@link #forward(Network, TransposedWeights, int)}, the first layer reading its input rows
     * in place from {@code x} ({@code net.inputs()} floats each, from {@code xOff}) instead of from
     * {@link #input()}: a prediction need not copy its rows in first (1.5 MB for 500 rows of
     * 784, a pass over memory beside the products). The first layer's product broadcasts its input's
     * values one at a time, so where its rows start in their cache lines costs nothing.
     */
    public void forward(Network net, TransposedWeights transposed, float[] x, int xOff, int rows) {
        checkRows(rows);
        Objects.checkFromIndexSize(xOff, rows * net.inputs(), x.length);
        int block = FORWARD_BLOCK;
        for (int r0 = 0; r0 < rows; r0 += block) {
            forwardRows(net, transposed, x, xOff, r0, Math.min(rows, r0 + block));
        }
    }

    /**
     * Rows per pass through all layers in {@link #forward}: each layer's weights are read once for
     * them, and their activations (128 KB a layer of 512 units) stay in L2. Predictions and
     * evaluations went through {@link #rowBlock}'s blocks, a quarter of the rows each (16 rows of
     * 64) until this was measured: {@code bp bench predict --batch 128} on two cores (two shares
     * of 64 rows, Intel Xeon) 188-192 k samples/s in blocks of 16 rows, 208-218 k in one block;
     * 128 and 256 rows a block the same, within the noise, at batches 128 and 1000.
     */
    static final int FORWARD_BLOCK = 64;

    /** The forward pass of rows {@code [r0, r1)}: one block of {@link #rowBlock} or of {@link #FORWARD_BLOCK}. */
    public void forwardRows(Network net, TransposedWeights transposed, int r0, int r1) {
        forwardRows(net, transposed, input, o, r0, r1);
    }

    private void forwardRows(Network net, TransposedWeights transposed, float[] x, int xOff, int r0, int r1) {
        checkRows(r1);
        if (transposed != null && transposed.network() != net) {
            throw new IllegalArgumentException("the transposed weights belong to another network");
        }
        for (int l = 0; l < net.layerCount(); l++) {
            forwardLayer(net, transposed, l, l == 0 ? x : layerInput(l), l == 0 ? xOff : o, r0, r1);
        }
    }

    /** {@code a[l] = f(z[l])} for rows {@code [r0, r0 + rows)}. */
    private void activate(Network net, int l, int r0, int rows) {
        Kernels k = NetworkInternals.kernels(net);
        int units = net.size(l + 1);
        int off = o + r0 * units;
        Elementwise f = NetworkInternals.elementwise(net, l);
        if (f != null) {
            k.activate(f, z[l], a[l], off, rows * units, net.alpha(l));
            return;
        }
        switch (net.activation(l)) {
            case PRELU -> k.prelu(z[l], a[l], off, rows, units, net.parameters(), net.slopeOffset(l));
            case SOFTMAX -> k.softmaxRows(z[l], a[l], off, rows, units);
            case MAXOUT -> k.maxout(z[l], a[l], o, r0, rows, units, net.weightRows(l) / units);
            default -> throw new IllegalStateException(net.activation(l) + " has neither elementwise kernels nor a "
                    + "forward pass of its own here");
        }
    }

    /**
     * Units per piece of a layer shared out by units ({@link #forwardColumns}) in a prediction of
     * one row, and the narrowest layer worth sharing out: 128, in whole packed panels.
     */
    public static int unitBlock(Network net) {
        return wholePanels(net, 128);
    }

    /**
     * The most units per task of a layer's forward pass shared out by units in training (see
     * {@link #unitTasks}): 64, in whole packed panels. A thread's tasks of one layer share one
     * copy of the layer's input ({@link #forwardColumns(Network, TransposedWeights, int, int, int, int, long)}),
     * so small tasks copy no more than one block per thread did.
     */
    public static int unitTask(Network net) {
        return wholePanels(net, 64);
    }

    /**
     * Layer l's units cut into tasks for {@code threads} threads, as boundaries {@code b[0] = 0 <
     * b[1] < … = units}: each thread's share (whole panels) in tasks of at most {@code maxUnits},
     * smaller toward the end of the share (…, max, 4, 2, 1, 1 panels), so that a thread that
     * finishes first takes over the other's last tasks, and the last is short. On these VMs one
     * core often runs slower than the other for a while, or stops for a millisecond: at batch
     * 128 on two threads (Zen 3) the two finished a block of 256 units of layer 0 40 µs apart on
     * average (median 12, 99th percentile 520). Against tasks of 64 units all through (one JVM
     * alternating epochs of 15 000 samples, paired): batch 128 +1.1 % (40 pairs), batch 32 -0.5 %
     * (30 pairs). On one thread, blocks of {@code maxUnits}.
     */
    public static int[] unitTasks(Network net, int l, int threads, int maxUnits) {
        int units = net.weightRows(l);
        int panel = NetworkInternals.kernels(net).panelWidth();
        int panels = (units + panel - 1) / panel; // the last may be narrower
        int most = Math.max(1, maxUnits / panel);
        int[] ends = new int[panels]; // piece ends in panels, collected from the last piece of the last share
        int count = 0;
        for (int t = threads - 1; t >= 0; t--) {
            int shareStart = (int) ((long) panels * t / threads);
            int size = threads == 1 ? most : 1;
            for (int end = (int) ((long) panels * (t + 1) / threads), cut = 0; end > shareStart; cut++) {
                ends[count++] = end;
                end = Math.max(shareStart, end - size);
                if (cut > 0) {
                    size = Math.min(most, 2 * size); // 1, 1, 2, 4, … panels from the end of the share
                }
            }
        }
        int[] bounds = new int[count + 1];
        for (int b = 1; b <= count; b++) {
            bounds[b] = Math.min(units, ends[count - b] * panel);
        }
        return bounds;
    }

    private static int wholePanels(Network net, int units) {
        int panel = NetworkInternals.kernels(net).panelWidth();
        return (units + panel - 1) / panel * panel;
    }

    /**
     * Whether layer l's forward pass can be shared out by blocks of units ({@link #forwardColumns}):
     * with an activation of one value at a time.
     */
    public static boolean columnsSplittable(Network net, int l) {
        return NetworkInternals.elementwise(net, l) != null;
    }

    /**
     * Layer l's forward pass for the first {@code rows} rows, units {@code [j0, j1)} (layer l − 1
     * complete): a piece of a layer shared out by blocks of units, in the form {@link #forwardLayer}
     * takes, through the packed weights or as dot products. Every value is computed as by
     * {@link #forwardRows} (with j0 a multiple of the kernels' {@code panelWidth()} for the packed
     * weights): the same FMA chain per unit, and activations that give a value the same bits
     * wherever it falls.
     */
    public void forwardColumns(Network net, TransposedWeights transposed, int l, int j0, int j1, int rows) {
        forwardColumns(net, transposed, l, j0, j1, rows, Kernels.NO_TOKEN);
    }

    /**
     * As {@link #forwardColumns(Network, TransposedWeights, int, int, int, int)}, one of several
     * blocks of the same layer: the calls on one thread with the same {@code token} (from {@code
     * Kernels.newToken()}, new for each pass over the layer; {@code Kernels.NO_TOKEN} for none)
     * share one copy of the layer's input.
     */
    public void forwardColumns(Network net, TransposedWeights transposed, int l, int j0, int j1, int rows,
                               long token) {
        if (!columnsSplittable(net, l)) {
            throw new IllegalArgumentException("layer " + l + " cannot be computed by blocks of units");
        }
        Kernels k = NetworkInternals.kernels(net);
        float[] in = layerInput(l);
        float[] p = net.parameters();
        int fanIn = net.size(l);
        int n = net.weightRows(l);
        if (readsInPlace(transposed, l)) {
            k.gemmABtBiasInPlace(in, o, p, net.weightOffset(l) + j0 * fanIn, p, net.biasOffset(l) + j0, z[l], o + j0, n,
                    rows, j1 - j0, fanIn, token);
        } else if (asDotProducts(transposed, l)) {
            // no packed copy (shards below BatchGradient.TRANSPOSED_MIN_BATCH), or a layer too narrow for one:
            // a row at a time, C's rows n apart
            for (int r = 0; r < rows; r++) {
                k.gemmABtBias(in, o + r * fanIn, p, net.weightOffset(l) + j0 * fanIn, p, net.biasOffset(l) + j0, z[l],
                        o + r * n + j0, 1, j1 - j0, fanIn);
            }
        } else {
            k.gemmPackedBias(in, o, transposed.array(), transposed.offset(l) + j0 * fanIn, p, net.biasOffset(l) + j0,
                    z[l], o + j0, n, rows, j1 - j0, fanIn, token);
        }
        Elementwise f = NetworkInternals.elementwise(net, l);
        for (int r = 0; r < rows; r++) {
            k.activate(f, z[l], a[l], o + r * n + j0, j1 - j0, net.alpha(l));
        }
    }

    /** Largest training batch at which the first layer's forward pass reads its weights in place. */
    static final int IN_PLACE_MAX_BATCH = 64;

    /**
     * As {@link #IN_PLACE_MAX_BATCH}, on one thread: there each core's forward pass copies the
     * input once, not once per thread, and the re-pack the update saves is a larger share of the
     * step. bp bench train --batch 128 --threads 1, alternating in place and packed (Intel Xeon, 5
     * pairs): 63.4-64.2 k against 62.3-62.7 k samples/s (+1.7 %); on two threads in place lost 7 %
     * (100.6-100.8 k against 106.2-109.0 k), at batch 256 on one thread 1 %.
     */
    public static final int IN_PLACE_MAX_BATCH_ONE_THREAD = 128;

    /**
     * Whether layer l's forward pass, in training with batches of {@code batch} rows, reads its
     * weights in place ({@code Kernels.gemmABtBiasInPlace}) instead of from a {@link
     * TransposedWeights} copy, which then does not hold the layer, so that the update does not
     * re-pack it: the first layer (the largest, 75 % of the weights of 784-512-256-10, and the
     * only one whose weights serve no other product that could share the copy), where the kernels
     * {@code prefer it} (with the packed form's bits), for batches of at most {@link
     * #IN_PLACE_MAX_BATCH} rows ({@link #IN_PLACE_MAX_BATCH_ONE_THREAD} when one thread runs the
     * step). The in-place form copies the layer's input and its output once each per pass
     * instead; over larger batches that costs more than the re-pack saves. Paired epochs in one
     * JVM, in place against packed (Zen 5): batch 32 +9 % on one thread, +4 % on two; batch 64 +5
     * % and +1.5 %; batch 128 0 % and −2 %; batch 256 on two threads −4 %.
     */
    public static boolean forwardReadsWeightsInPlace(Network net, int l, int batch, boolean oneThread) {
        return l == 0 && batch <= (oneThread ? IN_PLACE_MAX_BATCH_ONE_THREAD : IN_PLACE_MAX_BATCH)
                && NetworkInternals.kernels(net).forwardReadsWeightsInPlace(net.weightRows(l));
    }

    /** Whether layer l's forward pass reads its weights in place rather than through the packed copy or as dot products. */
    private static boolean readsInPlace(TransposedWeights transposed, int l) {
        return transposed != null && transposed.readsInPlace(l);
    }

    /** Whether layer l's forward pass of {@code rows} rows reads the inference copy's blocks of units. */
    private static boolean readsBlocks(TransposedWeights transposed, int l, int rows) {
        return transposed != null && transposed.blocked(l) && rows >= BLOCKS_MIN_ROWS;
    }

    /** Whether layer l's forward pass goes as dot products on the weights rather than through the packed copy. */
    private static boolean asDotProducts(TransposedWeights transposed, int l) {
        return transposed == null || !transposed.packs(l);
    }

    /**
     * The fewest rows whose forward pass reads a layer's weights in blocks where the inference copy
     * has them ({@link TransposedWeights#blocked}): a whole {@link #FORWARD_BLOCK}. With fewer,
     * copying the rows to panels and the product back costs what the register blocks save: bp
     * bench predict on one core (Intel Xeon, alternating runs), 32 rows 90-91 k samples/s against
     * 100-101 k from the packed weights, 64 rows the same (108-112 k and 109-111 k). On two cores
     * at 1000 rows (shares of 500: seven blocks of 64 rows and one of 52), blocks from 64 rows
     * 203-228 k against 197-217 k (8 pairs), blocks from 48 rows (the 52 too) only +3 %.
     */
    static final int BLOCKS_MIN_ROWS = FORWARD_BLOCK;

    /** Layer l's forward pass for rows {@code [r0, r1)}, layer l − 1 complete for them. */
    public void forwardLayer(Network net, TransposedWeights transposed, int l, int r0, int r1) {
        forwardLayer(net, transposed, l, layerInput(l), o, r0, r1);
    }

    /** As {@link #forwardLayer(Network, TransposedWeights, int, int, int)} with the layer's input rows from {@code in} at {@code inOff}. */
    private void forwardLayer(Network net, TransposedWeights transposed, int l, float[] in, int inOff, int r0, int r1) {
        Kernels k = NetworkInternals.kernels(net);
        float[] p = net.parameters();
        int rows = r1 - r0;
        int fanIn = net.size(l);
        int n = net.weightRows(l);
        if (readsBlocks(transposed, l, rows)) {
            k.gemmBlocksBias(in, inOff + r0 * fanIn, transposed.blocks(), transposed.offset(l), p, net.weightOffset(l), p,
                    net.biasOffset(l), z[l], o + r0 * n, n, rows, n, fanIn);
        } else if (readsInPlace(transposed, l)) {
            k.gemmABtBiasInPlace(in, inOff + r0 * fanIn, p, net.weightOffset(l), p, net.biasOffset(l), z[l], o + r0 * n, n,
                    rows, n, fanIn, Kernels.NO_TOKEN);
        } else if (asDotProducts(transposed, l)) {
            k.gemmABtBias(in, inOff + r0 * fanIn, p, net.weightOffset(l), p, net.biasOffset(l), z[l], o + r0 * n, rows, n,
                    fanIn);
        } else {
            k.gemmPackedBias(in, inOff + r0 * fanIn, transposed.array(), transposed.offset(l), p, net.biasOffset(l), z[l],
                    o + r0 * n, rows, n, fanIn);
        }
        activate(net, l, r0, rows);
    }

    /**
     * Whether layer l's backward activation works row by row. PReLU's does not: its slopes'
     * gradient is a sum over all rows, taken in row order by {@link #activationBackward}.
     */
    public static boolean rowWiseBackward(Network net, int l) {
        return net.activation(l) != Activation.PRELU;
    }

    /** Turns ∂L/∂a of layer l into ∂L/∂z for rows {@code [r0, r0 + rows)} (a {@link #rowWiseBackward} layer). */
    private void activationBackwardRows(Network net, int l, int r0, int rows) {
        Kernels k = NetworkInternals.kernels(net);
        int units = net.size(l + 1);
        int off = o + r0 * units;
        int len = rows * units;
        float alpha = net.alpha(l);
        float[] z = this.z[l];
        float[] a = this.a[l];
        float[] g = da[l];
        Elementwise f = NetworkInternals.elementwise(net, l);
        if (f != null) {
            k.activateBackward(f, z, a, g, off, len, alpha);
            return;
        }
        switch (net.activation(l)) {
            case SOFTMAX -> k.softmaxBackwardRows(a, g, off, rows, units);
            case MAXOUT -> k.maxoutBackward(z, a, g, dz[l], o, r0, rows, units, net.weightRows(l) / units);
            case PRELU -> throw new IllegalStateException("PReLU's backward pass needs all rows at once");
            default -> throw new IllegalStateException(net.activation(l) + " has neither elementwise kernels nor a "
                    + "backward pass of its own here");
        }
    }

    /**
     * The backward activation of a layer that is not {@link #rowWiseBackward} (PReLU), over the first
     * {@code rows} rows, writing its slopes' gradient into {@code grad} (added when {@code accumulate}).
     */
    public void activationBackward(Network net, int l, int rows, float[] grad, boolean accumulate) {
        NetworkInternals.kernels(net).preluBackward(z[l], da[l], o, rows, net.size(l + 1), net.parameters(), net.slopeOffset(l),
                grad, net.slopeOffset(l), accumulate);
    }

    /**
     * After {@link #forward}: adds the gradient of the loss summed over the {@code rows} samples to
     * {@code grad} (laid out like {@link Network#parameters()}) and returns the summed loss.
     */
    public double backward(Network net, int rows, float[] grad) {
        return backward(net, rows, grad, true);
    }

    /**
     * As {@link #backward(Network, int, float[])}, but when {@code accumulate} is false the gradient
     * overwrites {@code grad} (no need to zero it first).
     */
    public double backward(Network net, int rows, float[] grad, boolean accumulate) {
        double loss = loss(net, rows);
        int block = rowBlock(rows);
        finishOutputGradient(net, rows, grad, accumulate);
        for (int l = net.layerCount() - 1; l >= 0; l--) {
            weightGradient(net, l, 0, net.weightRows(l), rows, grad, accumulate);
            if (l > 0) {
                for (int r0 = 0; r0 < rows; r0 += block) {
                    inputGradientRows(net, l, r0, Math.min(rows, r0 + block));
                }
                if (!rowWiseBackward(net, l - 1)) {
                    activationBackward(net, l - 1, rows, grad, accumulate);
                }
            }
        }
        return loss;
    }

    /**
     * After the forward pass of rows {@code [r0, r1)}: their losses (see {@link #lossSum}) and the
     * loss's gradient by the output layer's z, or by its a when the output layer is not
     * {@link #rowWiseBackward} (then {@link #activationBackward} finishes it).
     */
    public void lossRows(Network net, int r0, int r1) {
        checkRows(r1);
        int last = net.layerCount() - 1;
        boolean fused = LossGradient.fusedWithOutput(net.loss());
        LossGradient.outputDelta(net.loss(), NetworkInternals.kernels(net), z[last], a[last], target, fused ? dz[last] : da[last], o,
                r0, r1, net.outputs(), rowLoss);
        if (!fused && rowWiseBackward(net, last)) {
            activationBackwardRows(net, last, r0, r1 - r0);
        }
    }

    /**
     * After {@link #lossRows} of the first {@code rows} rows: the output layer's backward activation
     * when it could not be done row by row (a PReLU output layer under a loss by a).
     */
    public void finishOutputGradient(Network net, int rows, float[] grad, boolean accumulate) {
        if (!outputGradientByRows(net)) {
            activationBackward(net, net.layerCount() - 1, rows, grad, accumulate);
        }
    }

    /**
     * Whether {@link #lossRows} leaves the output layer's ∂L/∂z final for its rows, so that {@link
     * #finishOutputGradient} has nothing to do and the rows' input gradient can follow at once.
     */
    public static boolean outputGradientByRows(Network net) {
        return LossGradient.fusedWithOutput(net.loss()) || rowWiseBackward(net, net.layerCount() - 1);
    }

    /** The losses of the first {@code rows} rows summed in row order, after their {@link #lossRows}. */
    public double lossSum(int rows) {
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            sum += rowLoss[r];
        }
        return sum;
    }

    /**
     * Layer l's weight and bias gradient for its weight rows (units) {@code [j0, j1)}, summed over
     * the first {@code rows} samples, into {@code grad} (added when {@code accumulate}); needs ∂L/∂z
     * of layer l for all rows.
     */
    public void weightGradient(Network net, int l, int j0, int j1, int rows, float[] grad, boolean accumulate) {
        weightGradient(net, l, j0, j1, rows, grad, accumulate, Kernels.NO_TOKEN);
    }

    /**
     * As {@link #weightGradient(Network, int, int, int, int, float[], boolean)}, one of several
     * blocks of the same layer: the calls on one thread with the same {@code token} (from {@code
     * Kernels.newToken()}, new for each pass over the layer; {@code Kernels.NO_TOKEN} for none)
     * share one copy of the layer's input.
     */
    public void weightGradient(Network net, int l, int j0, int j1, int rows, float[] grad, boolean accumulate,
                               long token) {
        weightGradientRows(net, l, j0, j1, rows, grad, net.weightOffset(l) + j0 * net.size(l), accumulate, token);
        biasGradient(net, l, j0, j1, rows, grad, accumulate);
    }

    /**
     * The weight part of {@link #weightGradient(Network, int, int, int, int, float[], boolean, long)}:
     * ∂W for units {@code [j0, j1)} into {@code out} from {@code outOff}, rows {@code net.size(l)}
     * apart, wherever that is (the same bits at any offset).
     */
    public void weightGradientRows(Network net, int l, int j0, int j1, int rows, float[] out, int outOff,
                                   boolean accumulate, long token) {
        NetworkInternals.kernels(net).gemmAtB(dz[l], o + j0, net.weightRows(l), layerInput(l), o, out, outOff,
                j1 - j0, net.size(l), rows, accumulate, token);
    }

    /** The bias part of {@link #weightGradient}: ∂b for units {@code [j0, j1)}. */
    public void biasGradient(Network net, int l, int j0, int j1, int rows, float[] grad, boolean accumulate) {
        NetworkInternals.kernels(net).columnSums(dz[l], o + j0, net.weightRows(l), rows, j1 - j0, grad,
                net.biasOffset(l) + j0, accumulate);
    }

    /** After {@link #backward} (or its phases): layer l's ∂L/∂z, rows of {@code weightRows(l)} from {@link #offset()}. */
    public float[] layerDelta(int l) {
        return dz[l];
    }

    /** The input of layer l: the network's input for layer 0, layer l − 1's activations otherwise (from {@link #offset()}). */
    public float[] layerInput(int l) {
        return l == 0 ? input : a[l - 1];
    }

    /**
     * ∂L/∂a of layer l − 1 for rows {@code [r0, r1)} from layer l's ∂L/∂z and weights, then its ∂L/∂z
     * when layer l − 1 is {@link #rowWiseBackward}.
     */
    public void inputGradientRows(Network net, int l, int r0, int r1) {
        int fanIn = net.size(l);
        int n = net.weightRows(l);
        Kernels k = NetworkInternals.kernels(net);
        int chunk = inputGradientChunkUnits(net, l);
        for (int u0 = 0; u0 < n; u0 += chunk) {
            k.gemmAB(dz[l], o + r0 * n + u0, n, net.parameters(), net.weightOffset(l) + u0 * fanIn, da[l - 1],
                    o + r0 * fanIn, r1 - r0, fanIn, Math.min(n, u0 + chunk) - u0, u0 > 0);
        }
        if (rowWiseBackward(net, l - 1)) {
            activationBackwardRows(net, l - 1, r0, r1 - r0);
        }
    }

    /**
     * The product of chunk t of layer l's units for the first {@code rows} rows: the piece of its
     * input gradient that reads only the chunk's weights (an {@link #inputGradientByChunks} layer).
     * {@link #finishInputGradientColumns} adds the chunks up once all are done.
     */
    public void inputGradientChunk(Network net, int l, int t, int rows) {
        int fanIn = net.size(l);
        int n = net.weightRows(l);
        int u0 = t * INPUT_GRADIENT_CHUNK;
        float[] out = t == 0 ? da[l - 1] : chunkProducts[l];
        int outOff = t == 0 ? o : chunkProductOffset(t, fanIn);
        NetworkInternals.kernels(net).gemmAB(dz[l], o + u0, n, net.parameters(), net.weightOffset(l) + u0 * fanIn, out, outOff,
                rows, fanIn, Math.min(n, u0 + INPUT_GRADIENT_CHUNK) - u0, false);
    }

    /** Where chunk t's product (t ≥ 1) starts in its layer's {@link #chunkProducts}. */
    private int chunkProductOffset(int t, int fanIn) {
        return o + (t - 1) * capacity * fanIn;
    }

    /**
     * After every {@link #inputGradientChunk} of layer l: ∂L/∂a of layer l − 1 for its units
     * {@code [j0, j1)} and the first {@code rows} rows, the chunks' products added in chunk order
     * (the bits of {@link #inputGradientRows}), then its ∂L/∂z.
     */
    public void finishInputGradientColumns(Network net, int l, int j0, int j1, int rows) {
        Kernels k = NetworkInternals.kernels(net);
        int fanIn = net.size(l);
        int chunks = inputGradientChunks(net, l);
        float[] g = da[l - 1];
        Elementwise f = NetworkInternals.elementwise(net, l - 1);
        float alpha = net.alpha(l - 1);
        for (int r = 0; r < rows; r++) {
            int at = r * fanIn + j0;
            for (int t = 1; t < chunks; t++) {
                k.axpy(1f, chunkProducts[l], chunkProductOffset(t, fanIn) + at, g, o + at, j1 - j0);
            }
            k.activateBackward(f, z[l - 1], a[l - 1], g, o + at, j1 - j0, alpha);
        }
    }

    /**
     * After {@link #forward}: the loss summed over the first {@code rows} samples. Leaves the loss's
     * gradient by the outputs (by z for the fused losses), where {@link #backward} starts.
     */
    public double loss(Network net, int rows) {
        checkRows(rows);
        int block = rowBlock(rows);
        for (int r0 = 0; r0 < rows; r0 += block) {
            lossRows(net, r0, Math.min(rows, r0 + block));
        }
        return lossSum(rows);
    }

    /** After {@link #forward}: how many of the first {@code rows} samples have their largest output at their label. */
    public int countCorrect(int rows, int outputs) {
        return countCorrect(0, rows, outputs);
    }

    /** As {@link #countCorrect(int, int)} for rows {@code [r0, r1)}. */
    public int countCorrect(int r0, int r1, int outputs) {
        float[] out = output();
        int correct = 0;
        for (int r = r0; r < r1; r++) {
            if (argmax(out, o + r * outputs, outputs) == labels[r]) {
                correct++;
            }
        }
        return correct;
    }

    private void checkRows(int rows) {
        if (rows < 0 || rows > capacity) {
            throw new IllegalArgumentException("rows " + rows + " outside 0.." + capacity);
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * The index of the largest of {@code v[off, off + len)}, the first on ties.
     *
     * @param v the values
     * @param off where they start
     * @param len how many
     * @return the index, from 0
     */
    public static int argmax(float[] v, int off, int len) {
        int best = 0;
        for (int j = 1; j < len; j++) {
            if (v[off + j] > v[off + best]) {
                best = j;
            }
        }
        return best;
    }
}
