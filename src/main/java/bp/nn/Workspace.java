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
        int widest = net.inputs();
        input = new float[capacity * net.inputs()];
        target = new float[capacity * net.outputs()];
        labels = new int[capacity];
        z = new float[net.layerCount()][];
        a = new float[net.layerCount()][];
        for (int l = 0; l < net.layerCount(); l++) {
            z[l] = new float[capacity * net.weightRows(l)];
            a[l] = new float[capacity * net.size(l + 1)];
            widest = Math.max(widest, net.weightRows(l));
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

    /** Layer {@code layer}'s activations after {@link #forward}: {@code rows × units}, row by row. */
    public float[] activations(int layer) {
        return a[layer];
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
            int n = net.weightRows(l);
            if (transposed == null || !k.transposedForwardPays(n)) {
                k.gemmABtBias(in, 0, p, net.weightOffset(l), p, net.biasOffset(l), z[l], 0, rows, n, fanIn);
            } else {
                k.gemmABBias(in, 0, transposed.array(), net.weightOffset(l), p, net.biasOffset(l), z[l], 0,
                        rows, n, fanIn);
            }
            activate(net, l, rows);
            in = a[l];
        }
    }

    /** {@code a[l] = f(z[l])} for the first {@code rows} rows. */
    private void activate(Network net, int l, int rows) {
        Kernels k = net.kernels();
        int units = net.size(l + 1);
        int len = rows * units;
        float alpha = net.alpha(l);
        float[] z = this.z[l];
        float[] a = this.a[l];
        switch (net.activation(l)) {
            case SIGMOID -> k.sigmoid(z, a, 0, len);
            case TANH -> k.tanh(z, a, 0, len);
            case RELU -> k.relu(z, a, 0, len);
            case LEAKY_RELU -> k.leakyRelu(z, a, 0, len, alpha);
            case ELU -> k.elu(z, a, 0, len, alpha);
            case PRELU -> k.prelu(z, a, 0, rows, units, net.parameters(), net.slopeOffset(l));
            case SOFTPLUS -> k.softplus(z, a, 0, len);
            case SOFTMAX -> k.softmaxRows(z, a, 0, rows, units);
            case MAXOUT -> k.maxout(z, a, rows, units, net.weightRows(l) / units);
            case IDENTITY -> System.arraycopy(z, 0, a, 0, len);
        }
    }

    /**
     * Turns {@code g = ∂L/∂a} of layer l into {@code ∂L/∂z} and returns the buffer holding it: g
     * itself, changed in place, or for maxout (whose z is wider than a) {@code spare}. Writes the
     * PReLU slopes' gradient into {@code grad}.
     */
    private float[] activationBackward(Network net, int l, float[] g, float[] spare, int rows, float[] grad,
                                       boolean accumulate) {
        Kernels k = net.kernels();
        int units = net.size(l + 1);
        int len = rows * units;
        float alpha = net.alpha(l);
        float[] z = this.z[l];
        float[] a = this.a[l];
        switch (net.activation(l)) {
            case SIGMOID -> k.sigmoidBackward(a, g, 0, len);
            case TANH -> k.tanhBackward(a, g, 0, len);
            case RELU -> k.reluBackward(z, g, 0, len);
            case LEAKY_RELU -> k.leakyReluBackward(z, g, 0, len, alpha);
            case ELU -> k.eluBackward(z, a, g, 0, len, alpha);
            case PRELU -> k.preluBackward(z, g, 0, rows, units, net.parameters(), net.slopeOffset(l), grad,
                    net.slopeOffset(l), accumulate);
            case SOFTPLUS -> k.softplusBackward(a, g, 0, len);
            case SOFTMAX -> k.softmaxBackwardRows(a, g, 0, rows, units);
            case MAXOUT -> {
                k.maxoutBackward(z, a, g, spare, rows, units, net.weightRows(l) / units);
                return spare;
            }
            case IDENTITY -> { }
        }
        return g;
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
        if (!net.loss().fusedWithOutput()) {
            useAsDelta(activationBackward(net, last, delta, deltaPrev, rows, grad, accumulate));
        }
        for (int l = last; l >= 0; l--) {
            int fanIn = net.size(l);
            int n = net.weightRows(l);
            float[] in = l == 0 ? input : a[l - 1];
            k.gemmAtB(delta, 0, in, 0, grad, net.weightOffset(l), n, fanIn, rows, accumulate);
            k.columnSums(delta, 0, rows, n, grad, net.biasOffset(l), accumulate);
            if (l > 0) {
                k.gemmAB(delta, 0, p, net.weightOffset(l), deltaPrev, 0, rows, fanIn, n);
                useAsDelta(activationBackward(net, l - 1, deltaPrev, delta, rows, grad, accumulate));
            }
        }
        return loss;
    }

    /** Makes {@code d} (one of the two delta buffers) the current delta, the other the spare. */
    private void useAsDelta(float[] d) {
        if (d != delta) {
            deltaPrev = delta;
            delta = d;
        }
    }

    /**
     * After {@link #forward}: the loss summed over the first {@code rows} samples. Leaves the loss's
     * gradient by the outputs (by z for the fused losses) in the delta buffer, where
     * {@link #backward} starts.
     */
    public double loss(Network net, int rows) {
        checkRows(rows);
        int last = net.layerCount() - 1;
        return net.loss().outputDelta(net.kernels(), z[last], a[last], target, delta, rows, net.outputs());
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
