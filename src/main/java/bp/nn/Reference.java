package bp.nn;

/**
 * Forward and backward passes in double precision, written as plainly as the equations: the oracle
 * the float32 engine and the finite differences are compared with. Slow on purpose; never used for
 * training.
 */
final class Reference {

    private final int[] sizes;
    private final Activation[] activations;
    private final double[] alphas;
    private final Loss loss;
    private final int[] weightOffsets;
    private final int[] biasOffsets;
    private final int[] slopeOffsets;
    private final int[] pieces;

    public Reference(Network net) {
        this.sizes = net.sizes();
        int layers = net.layerCount();
        this.activations = new Activation[layers];
        this.alphas = new double[layers];
        this.weightOffsets = new int[layers];
        this.biasOffsets = new int[layers];
        this.slopeOffsets = new int[layers];
        this.pieces = new int[layers];
        for (int l = 0; l < layers; l++) {
            activations[l] = net.activation(l);
            alphas[l] = net.alpha(l);
            weightOffsets[l] = net.weightOffset(l);
            biasOffsets[l] = net.biasOffset(l);
            slopeOffsets[l] = net.hasSlopes(l) ? net.slopeOffset(l) : -1;
            pieces[l] = net.layerActivation(l).pieces();
        }
        this.loss = net.loss();
    }

    /** One sample's pre-activations {@code z[l]} and activations {@code a[l + 1]} ({@code a[0]} is the input). */
    private record Pass(double[][] z, double[][] a) {
    }

    /** The activations of every layer for one sample; {@code [0]} is the input. */
    public double[][] forward(double[] params, double[] x) {
        return pass(params, x).a;
    }

    private Pass pass(double[] params, double[] x) {
        double[][] z = new double[activations.length][];
        double[][] acts = new double[sizes.length][];
        acts[0] = x.clone();
        for (int l = 0; l < activations.length; l++) {
            z[l] = preActivation(params, l, acts[l]);
            acts[l + 1] = activate(params, l, z[l]);
        }
        return new Pass(z, acts);
    }

    private double[] preActivation(double[] params, int l, double[] in) {
        double[] z = new double[sizes[l + 1] * pieces[l]];
        for (int o = 0; o < z.length; o++) {
            double s = params[biasOffsets[l] + o];
            for (int i = 0; i < in.length; i++) {
                s += params[weightOffsets[l] + o * in.length + i] * in[i];
            }
            z[o] = s;
        }
        return z;
    }

    private double[] activate(double[] params, int l, double[] z) {
        Activation f = activations[l];
        double alpha = alphas[l];
        int units = sizes[l + 1];
        double[] a = new double[units];
        if (f == Activation.MAXOUT) {
            for (int j = 0; j < units; j++) {
                a[j] = z[winningPiece(z, j, units, pieces[l]) * units + j];
            }
            return a;
        }
        if (f == Activation.SOFTMAX) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int j = 0; j < z.length; j++) {
                a[j] = Math.exp(z[j] - max);
                sum += a[j];
            }
            for (int j = 0; j < z.length; j++) {
                a[j] /= sum;
            }
            return a;
        }
        for (int j = 0; j < z.length; j++) {
            a[j] = switch (f) {
                case SIGMOID -> 1 / (1 + Math.exp(-z[j]));
                case TANH -> Math.tanh(z[j]);
                case RELU -> Math.max(0, z[j]);
                case LEAKY_RELU -> z[j] > 0 ? z[j] : alpha * z[j];
                case ELU -> z[j] > 0 ? z[j] : alpha * Math.expm1(z[j]);
                case PRELU -> z[j] > 0 ? z[j] : params[slopeOffsets[l] + j] * z[j];
                case SOFTPLUS -> Math.max(z[j], 0) + Math.log1p(Math.exp(-Math.abs(z[j])));
                case IDENTITY -> z[j];
                case SOFTMAX, MAXOUT -> throw new AssertionError();
            };
        }
        return a;
    }

    /** The first of unit j's pieces with the largest pre-activation (pieces are {@code units} apart). */
    private static int winningPiece(double[] z, int j, int units, int pieces) {
        int best = 0;
        for (int p = 1; p < pieces; p++) {
            if (z[p * units + j] > z[best * units + j]) {
                best = p;
            }
        }
        return best;
    }

    /** The loss of one sample. */
    public double loss(double[] params, double[] x, double[] t) {
        double[] a = forward(params, x)[sizes.length - 1];
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            double e = t[j] - a[j];
            s += switch (loss) {
                case SSE -> 0.5 * e * e;
                case MSE -> e * e / a.length;
                case MAE -> Math.abs(e) / a.length;
                case CROSS_ENTROPY -> t[j] == 0 ? 0 : -t[j] * Math.log(a[j]);
                case BINARY_CROSS_ENTROPY -> -(t[j] * Math.log(a[j]) + (1 - t[j]) * Math.log(1 - a[j])) / a.length;
            };
        }
        return s;
    }

    /** The mean loss over {@code rows} samples stored row by row. */
    public double meanLoss(double[] params, double[] x, double[] t, int rows) {
        double s = 0;
        for (int r = 0; r < rows; r++) {
            s += loss(params, row(x, r, sizes[0]), row(t, r, sizes[sizes.length - 1]));
        }
        return s / rows;
    }

    /** The gradient of {@link #meanLoss} by the four backpropagation equations. */
    public double[] gradient(double[] params, double[] x, double[] t, int rows) {
        double[] grad = new double[params.length];
        int last = activations.length - 1;
        for (int r = 0; r < rows; r++) {
            Pass pass = pass(params, row(x, r, sizes[0]));
            double[][] acts = pass.a;
            double[] target = row(t, r, sizes[sizes.length - 1]);
            double[] out = acts[last + 1];
            double[] delta = new double[out.length];
            if (loss == Loss.CROSS_ENTROPY || loss == Loss.BINARY_CROSS_ENTROPY) {
                // with its output activation, the loss's derivative by z collapses to (a − t) (/n for bce)
                double scale = loss == Loss.BINARY_CROSS_ENTROPY ? 1.0 / out.length : 1.0;
                for (int j = 0; j < out.length; j++) {
                    delta[j] = scale * (out[j] - target[j]);
                }
            } else {
                for (int j = 0; j < out.length; j++) {
                    double e = out[j] - target[j];
                    delta[j] = switch (loss) {
                        case MSE -> 2.0 / out.length * e;
                        case MAE -> Math.signum(e) / out.length;
                        default -> e;
                    };
                }
                // δ^L = ∇_a L ⊙ f'(z^L)
                delta = applyDerivative(params, last, pass, delta, grad, rows);
            }
            for (int l = last; l >= 0; l--) {
                double[] in = acts[l];
                for (int o = 0; o < delta.length; o++) {
                    grad[biasOffsets[l] + o] += delta[o] / rows;
                    for (int i = 0; i < in.length; i++) {
                        grad[weightOffsets[l] + o * in.length + i] += delta[o] * in[i] / rows;
                    }
                }
                if (l > 0) {
                    // δ^l = (W^{l+1})ᵀ δ^{l+1} ⊙ f'(z^l)
                    double[] prev = new double[in.length];
                    for (int i = 0; i < in.length; i++) {
                        double s = 0;
                        for (int o = 0; o < delta.length; o++) {
                            s += params[weightOffsets[l] + o * in.length + i] * delta[o];
                        }
                        prev[i] = s;
                    }
                    delta = applyDerivative(params, l - 1, pass, prev, grad, rows);
                }
            }
        }
        return grad;
    }

    /**
     * {@code ∂L/∂z} of layer l from {@code g = ∂L/∂a}: {@code g ⊙ f'(z)}, softmax through its
     * Jacobian, maxout routed to each unit's winning piece. Adds the PReLU slopes' gradient
     * {@code g·min(z, 0)} (over {@code rows} samples) to grad.
     */
    private double[] applyDerivative(double[] params, int l, Pass pass, double[] g, double[] grad, int rows) {
        Activation f = activations[l];
        double alpha = alphas[l];
        double[] z = pass.z[l];
        double[] a = pass.a[l + 1];
        double[] d = new double[z.length];
        if (f == Activation.SOFTMAX) {
            double gs = 0;
            for (int j = 0; j < g.length; j++) {
                gs += g[j] * a[j];
            }
            for (int j = 0; j < g.length; j++) {
                d[j] = a[j] * (g[j] - gs);
            }
            return d;
        }
        if (f == Activation.MAXOUT) {
            for (int j = 0; j < g.length; j++) {
                d[winningPiece(z, j, g.length, pieces[l]) * g.length + j] = g[j];
            }
            return d;
        }
        for (int j = 0; j < g.length; j++) {
            if (f == Activation.PRELU && z[j] <= 0) {
                grad[slopeOffsets[l] + j] += g[j] * z[j] / rows;
            }
            d[j] = g[j] * switch (f) {
                case SIGMOID -> a[j] * (1 - a[j]);
                case TANH -> 1 - a[j] * a[j];
                case RELU -> z[j] > 0 ? 1 : 0;
                case LEAKY_RELU -> z[j] > 0 ? 1 : alpha;
                case ELU -> z[j] > 0 ? 1 : a[j] + alpha;
                case PRELU -> z[j] > 0 ? 1 : params[slopeOffsets[l] + j];
                case SOFTPLUS -> -Math.expm1(-a[j]);
                case IDENTITY -> 1;
                case SOFTMAX, MAXOUT -> throw new AssertionError();
            };
        }
        return d;
    }

    /**
     * Five-point central differences {@code (8(L(θ+h) − L(θ−h)) − (L(θ+2h) − L(θ−2h))) / 12h} of
     * {@link #meanLoss} for every parameter: error O(h⁴), so h = 1e-4 leaves ~1e-12 of rounding.
     * NaN where the stencil straddles a kink of the loss surface.
     */
    public double[] finiteDifferences(double[] params, double[] x, double[] t, int rows, double h) {
        double[] grad = new double[params.length];
        double[] p = params.clone();
        for (int i = 0; i < p.length; i++) {
            double keep = p[i];
            p[i] = keep - 2 * h;
            long below = kinkSide(p, x, t, rows);
            p[i] = keep + 2 * h;
            long above = kinkSide(p, x, t, rows);
            if (below != above) {
                // the stencil straddles a kink (ReLU at 0, |e| at 0): no derivative to compare with
                grad[i] = Double.NaN;
            } else {
                grad[i] = (8 * (shifted(p, i, keep + h, x, t, rows) - shifted(p, i, keep - h, x, t, rows))
                        - (shifted(p, i, keep + 2 * h, x, t, rows) - shifted(p, i, keep - 2 * h, x, t, rows)))
                        / (12 * h);
            }
            p[i] = keep;
        }
        return grad;
    }

    /**
     * A fingerprint of which side of their kinks the piecewise units (ReLU, LeakyReLU, PReLU, and
     * ELU, whose second derivative jumps at 0) are on, which piece wins each maxout unit, and, for
     * MAE, which side of the target each output is on, over all samples.
     */
    private long kinkSide(double[] params, double[] x, double[] t, int rows) {
        long hash = 1;
        int outputs = sizes[sizes.length - 1];
        for (int r = 0; r < rows; r++) {
            Pass pass = pass(params, row(x, r, sizes[0]));
            double[][] acts = pass.a;
            for (int l = 0; l < activations.length; l++) {
                switch (activations[l]) {
                    case RELU, LEAKY_RELU, PRELU, ELU -> {
                        for (double z : pass.z[l]) {
                            hash = 31 * hash + (z > 0 ? 1 : 0);
                        }
                    }
                    case MAXOUT -> {
                        for (int j = 0; j < sizes[l + 1]; j++) {
                            hash = 31 * hash + winningPiece(pass.z[l], j, sizes[l + 1], pieces[l]);
                        }
                    }
                    default -> { }
                }
            }
            if (loss == Loss.MAE) {
                for (int j = 0; j < outputs; j++) {
                    hash = 31 * hash + (acts[sizes.length - 1][j] > t[r * outputs + j] ? 1 : 0);
                }
            }
        }
        return hash;
    }

    private double shifted(double[] p, int i, double value, double[] x, double[] t, int rows) {
        p[i] = value;
        return meanLoss(p, x, t, rows);
    }

    private static double[] row(double[] m, int r, int width) {
        double[] out = new double[width];
        System.arraycopy(m, r * width, out, 0, width);
        return out;
    }
}
