package bp.nn;

import bp.kernel.Kernels;

/** Activation functions of a layer, applied to {@code z = W a + b}. */
public enum Activation {
    SIGMOID("sigmoid"),
    TANH("tanh"),
    RELU("relu"),
    /** {@code z > 0 ? z : 0.01·z}, PyTorch's {@code LeakyReLU()} default slope. */
    LEAKY_RELU("leaky_relu"),
    /** {@code z > 0 ? z : e^z − 1}, PyTorch's {@code ELU()} with α = 1. */
    ELU("elu"),
    /** {@code log(1 + e^z)}, a smooth ReLU. */
    SOFTPLUS("softplus"),
    /** Row-wise softmax; its backward pass is the full Jacobian-vector product. */
    SOFTMAX("softmax"),
    IDENTITY("identity");


    private final String label;

    Activation(String label) {
        this.label = label;
    }

    /** The name used on the command line and in model files. */
    public String label() {
        return label;
    }

    /** Parses a name such as {@code relu}; the error lists the accepted names. */
    public static Activation parse(String name) {
        for (Activation a : values()) {
            if (a.label.equalsIgnoreCase(name.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown activation '" + name + "' (expected one of "
                + java.util.Arrays.stream(values()).map(Activation::label).toList() + ")");
    }

    /** Whether the activation has a parameter α (see {@link LayerActivation}). */
    public boolean hasAlpha() {
        return this == LEAKY_RELU || this == ELU;
    }

    /** PyTorch's default α: LeakyReLU's slope 0.01, ELU's scale 1; 0 for the others. */
    public float defaultAlpha() {
        return switch (this) {
            case LEAKY_RELU -> 0.01f;
            case ELU -> 1f;
            default -> 0f;
        };
    }

    /** {@code a = f(z)} for a {@code rows × cols} block; {@code alpha} as in {@link LayerActivation}. */
    void forward(Kernels k, float[] z, float[] a, int rows, int cols, float alpha) {
        int len = rows * cols;
        switch (this) {
            case SIGMOID -> k.sigmoid(z, a, 0, len);
            case TANH -> k.tanh(z, a, 0, len);
            case RELU -> k.relu(z, a, 0, len);
            case LEAKY_RELU -> k.leakyRelu(z, a, 0, len, alpha);
            case ELU -> k.elu(z, a, 0, len, alpha);
            case SOFTPLUS -> k.softplus(z, a, 0, len);
            case SOFTMAX -> k.softmaxRows(z, a, 0, rows, cols);
            case IDENTITY -> System.arraycopy(z, 0, a, 0, len);
        }
    }

    /** Turns {@code g = ∂L/∂a} into {@code ∂L/∂z}, in place. */
    void backward(Kernels k, float[] z, float[] a, float[] g, int rows, int cols, float alpha) {
        int len = rows * cols;
        switch (this) {
            case SIGMOID -> k.sigmoidBackward(a, g, 0, len);
            case TANH -> k.tanhBackward(a, g, 0, len);
            case RELU -> k.reluBackward(z, g, 0, len);
            case LEAKY_RELU -> k.leakyReluBackward(z, g, 0, len, alpha);
            case ELU -> k.eluBackward(z, a, g, 0, len, alpha);
            case SOFTPLUS -> k.softplusBackward(a, g, 0, len);
            case SOFTMAX -> k.softmaxBackwardRows(a, g, 0, rows, cols);
            case IDENTITY -> { }
        }
    }
}
