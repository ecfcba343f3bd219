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

    /** The slope of LeakyReLU below 0, and ELU's α. */
    static final float LEAKY_SLOPE = 0.01f;
    static final float ELU_ALPHA = 1f;

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

    /** {@code a = f(z)} for a {@code rows × cols} block. */
    void forward(Kernels k, float[] z, float[] a, int rows, int cols) {
        int len = rows * cols;
        switch (this) {
            case SIGMOID -> k.sigmoid(z, a, 0, len);
            case TANH -> k.tanh(z, a, 0, len);
            case RELU -> k.relu(z, a, 0, len);
            case LEAKY_RELU -> k.leakyRelu(z, a, 0, len, LEAKY_SLOPE);
            case ELU -> k.elu(z, a, 0, len, ELU_ALPHA);
            case SOFTPLUS -> k.softplus(z, a, 0, len);
            case SOFTMAX -> k.softmaxRows(z, a, 0, rows, cols);
            case IDENTITY -> System.arraycopy(z, 0, a, 0, len);
        }
    }

    /** Turns {@code g = ∂L/∂a} into {@code ∂L/∂z}, in place. */
    void backward(Kernels k, float[] z, float[] a, float[] g, int rows, int cols) {
        int len = rows * cols;
        switch (this) {
            case SIGMOID -> k.sigmoidBackward(a, g, 0, len);
            case TANH -> k.tanhBackward(a, g, 0, len);
            case RELU -> k.reluBackward(z, g, 0, len);
            case LEAKY_RELU -> k.leakyReluBackward(z, g, 0, len, LEAKY_SLOPE);
            case ELU -> k.eluBackward(z, a, g, 0, len, ELU_ALPHA);
            case SOFTPLUS -> k.softplusBackward(a, g, 0, len);
            case SOFTMAX -> k.softmaxBackwardRows(a, g, 0, rows, cols);
            case IDENTITY -> { }
        }
    }
}
