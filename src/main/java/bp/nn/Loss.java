package bp.nn;

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
}
