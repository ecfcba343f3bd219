package bp.nn;

import bp.kernel.Elementwise;

/** Activation functions of a layer, applied to {@code z = W a + b}; the engine's workspace computes them. */
public enum Activation {
    /** {@code 1 / (1 + e^−z)}. */
    SIGMOID("sigmoid", Elementwise.SIGMOID, "Sigmoid", Float.NaN, ""),
    /** {@code tanh z}. */
    TANH("tanh", Elementwise.TANH, "Tanh", Float.NaN, ""),
    /** {@code max(z, 0)}. */
    RELU("relu", Elementwise.RELU, "Relu", Float.NaN, ""),
    /** {@code z > 0 ? z : 0.01·z}, PyTorch's {@code LeakyReLU()} default slope. */
    LEAKY_RELU("leaky_relu", Elementwise.LEAKY_RELU, "LeakyRelu", 0.01f, "slope below 0"),
    /** {@code z > 0 ? z : e^z − 1}, PyTorch's {@code ELU()} with α = 1. */
    ELU("elu", Elementwise.ELU, "Elu", 1f, ""),
    /**
     * {@code z > 0 ? z : a_j·z} with a slope {@code a_j} per unit learned like the weights (He et
     * al. 2015, PyTorch's {@code PReLU(units)}); α is the slopes' initial value, 0.25 by default.
     */
    PRELU("prelu", null, "PRelu", 0.25f, "a slope per unit, learned, starting at α"),
    /** {@code log(1 + e^z)}, a smooth ReLU. */
    SOFTPLUS("softplus", Elementwise.SOFTPLUS, "Softplus", Float.NaN, ""),
    /** Row-wise softmax; its backward pass is the full Jacobian-vector product. */
    SOFTMAX("softmax", null, "Softmax", Float.NaN, ""),
    /**
     * {@code max_p z_p} over k linear pieces per unit (Goodfellow et al. 2013): the layer computes
     * k·units pre-activations, piece p of unit j in row {@code p·units + j} of the weights; α is k,
     * 2 by default. The same as PyTorch's {@code Linear(in, k·units)} then {@code view(-1, k, units).amax(1)}.
     */
    MAXOUT("maxout", null, null, 2f, "max of k linear pieces per unit"),
    /** {@code z} itself: a linear layer (regression outputs). */
    IDENTITY("identity", Elementwise.IDENTITY, null, Float.NaN, "");

    private final String label;
    private final Elementwise elementwise;
    private final String onnxOp;
    private final float defaultAlpha;
    /** What its parameter means, for the help (the default is {@link #defaultAlpha}). */
    private final String parameterMeaning;

    /**
     * @param label the name on the command line and in model files
     * @param elementwise its kernels when it acts on one value at a time, else null (the engine
     *                    has code of its own for it)
     * @param onnxOp the ONNX operator of the same function, null when there is none (maxout is
     *               two nodes, identity none)
     * @param defaultAlpha its parameter's default, NaN when it has no parameter
     * @param parameterMeaning what the parameter means, for the help
     */
    Activation(String label, Elementwise elementwise, String onnxOp, float defaultAlpha, String parameterMeaning) {
        this.label = label;
        this.elementwise = elementwise;
        this.onnxOp = onnxOp;
        this.defaultAlpha = defaultAlpha;
        this.parameterMeaning = parameterMeaning;
    }

    /**
     * The name used on the command line and in model files.
     *
     * @return the label, such as {@code leaky_relu}
     */
    public String label() {
        return label;
    }

    /**
     * Every activation as the command line takes it, e.g. {@code sigmoid, …, leaky_relu[:α] (slope
     * below 0, default 0.01), …}: the help of {@code bp train} is made from it.
     *
     * @return the list, comma-separated
     */
    public static String usage() {
        return java.util.Arrays.stream(values()).map(Activation::usageOfOne)
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** {@code relu}, or {@code leaky_relu[:α] (slope below 0, default 0.01)} for one with a parameter. */
    private String usageOfOne() {
        if (!hasAlpha()) {
            return label;
        }
        String value = Float.toString(defaultAlpha());
        value = value.endsWith(".0") ? value.substring(0, value.length() - 2) : value;
        return label + "[:" + (this == MAXOUT ? "k" : "α") + "] ("
                + (parameterMeaning.isEmpty() ? "" : parameterMeaning + ", ") + "default " + value + ")";
    }

    /**
     * Parses a name such as {@code relu}; the error lists the accepted names.
     *
     * @param name a label such as {@code relu}, in any case
     * @return the activation
     */
    public static Activation parse(String name) {
        for (Activation a : values()) {
            if (a.label.equalsIgnoreCase(name.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown activation '" + name + "' (expected one of "
                + java.util.Arrays.stream(values()).map(Activation::label).toList() + ")");
    }

    /**
     * Whether the activation has a parameter α (see {@link LayerActivation}).
     *
     * @return whether a layer of this activation takes {@code :α}
     */
    public boolean hasAlpha() {
        return !Float.isNaN(defaultAlpha);
    }

    /**
     * The default α: PyTorch's LeakyReLU slope 0.01, ELU scale 1 and PReLU initial slope 0.25, and
     * maxout's 2 pieces; 0 for the others.
     *
     * @return α's default value
     */
    public float defaultAlpha() {
        return hasAlpha() ? defaultAlpha : 0f;
    }

    /**
     * The ONNX operator that computes this activation in one node, with α as its {@code alpha}
     * attribute when it has one (ONNX's {@code LeakyRelu} and {@code Elu}); null when there is none.
     *
     * @return the operator's name, such as {@code Relu}, or null
     */
    public String onnxOp() {
        return onnxOp;
    }

    /**
     * The kernels of an activation that acts on one value at a time; null for softmax, PReLU and
     * maxout, which the engine computes by rows or units (see {@code NetworkInternals}).
     */
    Elementwise elementwise() {
        return elementwise;
    }
}
