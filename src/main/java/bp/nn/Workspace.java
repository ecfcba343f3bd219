package bp.nn;

import bp.kernel.Kernels;

/**
 * The buffers of one batch (a shard of at most {@link #capacity()} samples) going forward and
 * backward through a network: inputs, targets, each layer's pre-activations {@code Z} and
 * activations {@code A}, and two delta buffers. Allocated once and reused, so a training step
 * allocates nothing. Not thread-safe: each worker owns one.
 */
public final class Workspace {

    private final int capacity;
    private final float[] input;
    private final float[] target;
    private final int[] labels;
    private final float[][] z;
    private final float[][] a;
    private float[] delta;
    private float[] deltaPrev;

    public Workspace(Network net, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("workspace capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        int[] sizes = net.sizes();
        int widest = 0;
        for (int s : sizes) {
            widest = Math.max(widest, s);
        }
        input = new float[capacity * sizes[0]];
        target = new float[capacity * net.outputs()];
        labels = new int[capacity];
        z = new float[net.layerCount()][];
        a = new float[net.layerCount()][];
        for (int l = 0; l < net.layerCount(); l++) {
            z[l] = new float[capacity * sizes[l + 1]];
            a[l] = new float[capacity * sizes[l + 1]];
        }
        delta = new float[capacity * widest];
        deltaPrev = new float[capacity * widest];
    }

    public int capacity() {
        return capacity;
    }

    /** Input rows to fill before {@link #forward}: {@code capacity × inputs}. */
    public float[] input() {
        return input;
    }

    /** Target rows to fill before {@link #backward}: {@code capacity × outputs}. */
    public float[] target() {
        return target;
    }

    /** Class labels of the rows, for {@link #countCorrect}: {@code capacity} entries. */
    public int[] labels() {
        return labels;
    }

    /** The output layer's activations after {@link #forward}. */
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
     * must be up to date with {@code net}'s weights (null: as {@link #forward(Network, int)}).
     */
    public void forward(Network net, TransposedWeights transposed, int rows) {
        checkRows(rows);
        if (transposed != null && transposed.network() != net) {
            throw new IllegalArgumentException("the transposed weights belong to another network");
        }
        Kernels k = net.kernels();
        float[] p = net.parameters();
        float[] in = input;
        for (int l = 0; l < net.layerCount(); l++) {
            int fanIn = net.size(l);
            int units = net.size(l + 1);
            if (transposed == null || !k.transposedForwardPays(units)) {
                k.gemmABtBias(in, 0, p, net.weightOffset(l), p, net.biasOffset(l), z[l], 0, rows, units, fanIn);
            } else {
                k.gemmABBias(in, 0, transposed.array(), net.weightOffset(l), p, net.biasOffset(l), z[l], 0,
                        rows, units, fanIn);
            }
            net.activation(l).forward(k, z[l], a[l], rows, units, net.alpha(l));
            in = a[l];
        }
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
        checkRows(rows);
        Kernels k = net.kernels();
        float[] p = net.parameters();
        int last = net.layerCount() - 1;
        double loss = loss(net, rows);
        for (int l = last; l >= 0; l--) {
            int fanIn = net.size(l);
            int units = net.size(l + 1);
            float[] in = l == 0 ? input : a[l - 1];
            k.gemmAtB(delta, 0, in, 0, grad, net.weightOffset(l), units, fanIn, rows, accumulate);
            k.columnSums(delta, 0, rows, units, grad, net.biasOffset(l), accumulate);
            if (l > 0) {
                k.gemmAB(delta, 0, p, net.weightOffset(l), deltaPrev, 0, rows, fanIn, units);
                net.activation(l - 1).backward(k, z[l - 1], a[l - 1], deltaPrev, rows, fanIn, net.alpha(l - 1));
                float[] t = delta;
                delta = deltaPrev;
                deltaPrev = t;
            }
        }
        return loss;
    }

    /**
     * After {@link #forward}: the loss summed over the first {@code rows} samples. Leaves the output
     * layer's delta in the delta buffer, where {@link #backward} starts.
     */
    public double loss(Network net, int rows) {
        checkRows(rows);
        int last = net.layerCount() - 1;
        return net.loss().outputDelta(net.kernels(), net.activation(last), net.alpha(last), z[last], a[last], target, delta,
                rows, net.outputs());
    }

    /** After {@link #forward}: how many of the first {@code rows} samples have their largest output at their label. */
    public int countCorrect(int rows, int outputs) {
        float[] out = output();
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            if (Network.argmax(out, r * outputs, outputs) == labels[r]) {
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
}
