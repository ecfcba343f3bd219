package bp.nn;

import bp.kernel.Kernels;

/**
 * Loss functions. The value of a batch is the mean over its samples of the per-sample loss below;
 * gradients follow the same convention.
 */
public enum Loss {
    /** {@code ½ Σ_j (t_j − a_j)²} per sample: the worked example's E. */
    SSE("sse"),
    /** {@code (1/n) Σ_j (t_j − a_j)²} per sample, so the batch value is PyTorch's {@code MSELoss()}. */
    MSE("mse"),
    /** {@code (1/n) Σ_j |t_j − a_j|} per sample: PyTorch's {@code L1Loss()}; its gradient is the sign (0 at a tie). */
    MAE("mae"),
    /** {@code −Σ_j t_j log softmax(z)_j}: needs a softmax output layer; its delta is {@code a − t}. */
    CROSS_ENTROPY("ce"),
    /**
     * {@code (1/n) Σ_j −[t_j log σ(z_j) + (1 − t_j) log(1 − σ(z_j))]} per sample, computed from z so
     * that it never takes the log of 0: PyTorch's {@code BCEWithLogitsLoss()}. Needs a sigmoid output
     * layer; its delta is {@code (a − t)/n}.
     */
    BINARY_CROSS_ENTROPY("bce");

    private final String label;

    Loss(String label) {
        this.label = label;
    }

    /**
     * The name used on the command line and in model files.
     *
     * @return the name
     */
    public String label() {
        return label;
    }

    /**
     * Parses a name such as {@code ce}; the error lists the accepted names.
     *
     * @param name the name, in any case
     * @return the loss
     */
    public static Loss parse(String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        for (Loss l : values()) {
            if (l.label.equals(n)) {
                return l;
            }
        }
        if (n.equals("cross-entropy") || n.equals("crossentropy")) {
            return CROSS_ENTROPY;
        }
        throw new IllegalArgumentException("unknown loss '" + name + "' (expected one of "
                + java.util.Arrays.stream(values()).map(Loss::label).toList() + ")");
    }

    /** Throws when this loss cannot follow the given output activation. */
    void checkOutput(Activation output) {
        if (this == CROSS_ENTROPY && output != Activation.SOFTMAX) {
            throw new IllegalArgumentException("loss 'ce' (softmax cross-entropy) needs a softmax output layer, not "
                    + output.label());
        }
        if (this == BINARY_CROSS_ENTROPY && output != Activation.SIGMOID) {
            throw new IllegalArgumentException("loss 'bce' (sigmoid binary cross-entropy) needs a sigmoid output layer, "
                    + "not " + output.label());
        }
    }

    /**
     * Whether the loss includes its output activation, so that {@link #outputDelta} gives the
     * gradient by z ({@code a − t}) rather than by the outputs a.
     */
    boolean fusedWithOutput() {
        return this == CROSS_ENTROPY || this == BINARY_CROSS_ENTROPY;
    }

    /**
     * Writes the loss's gradient per sample (not yet divided by the batch size) of rows
     * {@code [r0, r1)} into {@code delta}: by the outputs a, or by the output layer's z when
     * {@link #fusedWithOutput()}. Each row's loss goes to {@code rowLoss[r]}, so that a batch's sum
     * is taken in row order however its rows were shared out.
     */
    void outputDelta(Kernels k, float[] z, float[] a, float[] target, float[] delta, int r0, int r1, int cols,
                     double[] rowLoss) {
        k.subtract(a, target, delta, r0 * cols, (r1 - r0) * cols);
        for (int r = r0; r < r1; r++) {
            rowLoss[r] = rowLoss(z, target, delta, r * cols, cols);
        }
    }

    /** The loss of the row at {@code off}, turning its {@code delta = a − t} into the loss's gradient. */
    private double rowLoss(float[] z, float[] target, float[] delta, int off, int cols) {
        int end = off + cols;
        double sum = 0;
        switch (this) {
            case SSE -> {
                for (int i = off; i < end; i++) {
                    sum += 0.5 * (double) delta[i] * delta[i];
                }
            }
            case MSE -> {
                for (int i = off; i < end; i++) {
                    sum += (double) delta[i] * delta[i];
                }
                sum /= cols;
                float twoOverN = 2f / cols;
                for (int i = off; i < end; i++) {
                    delta[i] *= twoOverN;
                }
            }
            case MAE -> {
                float oneOverN = 1f / cols;
                for (int i = off; i < end; i++) {
                    float e = delta[i];
                    sum += Math.abs((double) e);
                    delta[i] = e > 0 ? oneOverN : e < 0 ? -oneOverN : 0f;
                }
                sum /= cols;
            }
            case BINARY_CROSS_ENTROPY -> {
                float oneOverN = 1f / cols;
                for (int i = off; i < end; i++) {
                    double x = z[i];
                    sum += Math.max(x, 0) - x * target[i] + Math.log1p(Math.exp(-Math.abs(x)));
                    delta[i] *= oneOverN;
                }
                sum /= cols;
            }
            case CROSS_ENTROPY -> {
                // log softmax from z directly: exact where a has underflowed to 0
                double max = Double.NEGATIVE_INFINITY;
                for (int i = off; i < end; i++) {
                    max = Math.max(max, z[i]);
                }
                double s = 0;
                for (int i = off; i < end; i++) {
                    s += Math.exp(z[i] - max);
                }
                double logSum = max + Math.log(s);
                for (int i = off; i < end; i++) {
                    float t = target[i];
                    if (t != 0f) {
                        sum -= t * (z[i] - logSum);
                    }
                }
            }
        }
        return sum;
    }
}
