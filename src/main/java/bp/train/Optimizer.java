package bp.train;

import bp.kernel.Kernels;
import bp.nn.Network;

import java.util.Locale;

/**
 * How gradients become parameter updates, with PyTorch's formulas and defaults. {@code l2} adds
 * {@code λ·W} to the gradient of the weights (the gradient of the penalty {@code (λ/2)·‖W‖²});
 * biases are never penalised.
 *
 * <pre>{@code
 * Optimizer.sgd(0.1)   Optimizer.momentum(0.05, 0.9)   Optimizer.adam(1e-3)   Optimizer.adamW(1e-3, 0.01)
 * }</pre>
 */
public sealed interface Optimizer extends java.io.Serializable {

    /**
     * The base learning rate.
     *
     * @return the learning rate
     */
    double learningRate();

    /**
     * L2 coefficient λ on the weights.
     *
     * @return λ
     */
    double l2();

    /**
     * This optimizer with another L2 coefficient.
     *
     * @param l2 λ, at least 0
     * @return the optimizer with it
     */
    Optimizer withL2(double l2);

    /**
     * The same optimizer with another learning rate (e.g. a schedule's, for a training loop of one's own).
     *
     * @param lr a positive learning rate
     * @return the optimizer with it
     */
    Optimizer withLearningRate(double lr);

    /**
     * A readable description, e.g. {@code adam(lr=0.001)}.
     *
     * @return the description
     */
    String describe();

    /**
     * Plain SGD: {@code p -= lr·g}.
     *
     * @param lr a positive learning rate
     * @return the optimizer
     */
    static Optimizer sgd(double lr) {
        return new Sgd(check(lr), 0, 0, false);
    }

    /**
     * SGD with momentum {@code momentum} (PyTorch's {@code SGD(momentum=…)}).
     *
     * @param lr a positive learning rate
     * @param momentum in [0, 1)
     * @return the optimizer
     */
    static Optimizer momentum(double lr, double momentum) {
        return new Sgd(check(lr), 0, fraction("momentum", momentum), false);
    }

    /**
     * SGD with Nesterov momentum (PyTorch's {@code SGD(momentum=…, nesterov=True)}).
     *
     * @param lr a positive learning rate
     * @param momentum in [0, 1)
     * @return the optimizer
     */
    static Optimizer nesterov(double lr, double momentum) {
        return new Sgd(check(lr), 0, fraction("momentum", momentum), true);
    }

    /**
     * Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8.
     *
     * @param lr a positive learning rate
     * @return the optimizer
     */
    static Optimizer adam(double lr) {
        return new Adam(check(lr), 0, 0, 0.9, 0.999, 1e-8);
    }

    /**
     * AdamW: Adam with decoupled weight decay {@code wd} (PyTorch's default is 0.01).
     *
     * @param lr a positive learning rate
     * @param weightDecay at least 0
     * @return the optimizer
     */
    static Optimizer adamW(double lr, double weightDecay) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be ≥ 0, not " + weightDecay);
        }
        return new Adam(check(lr), 0, weightDecay, 0.9, 0.999, 1e-8);
    }

    /**
     * RMSprop with α = 0.99, ε = 1e-8 (PyTorch's defaults).
     *
     * @param lr a positive learning rate
     * @return the optimizer
     */
    static Optimizer rmsprop(double lr) {
        return new RmsProp(check(lr), 0, 0.99, 1e-8);
    }

    /**
     * By name: sgd, momentum, nesterov, adam, adamw, rmsprop (momentum 0.9, AdamW decay 0.01).
     *
     * @param name one of the names above
     * @param lr a positive learning rate
     * @return the optimizer
     */
    static Optimizer parse(String name, double lr) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "sgd" -> sgd(lr);
            case "momentum" -> momentum(lr, 0.9);
            case "nesterov" -> nesterov(lr, 0.9);
            case "adam" -> adam(lr);
            case "adamw" -> adamW(lr, 0.01);
            case "rmsprop" -> rmsprop(lr);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name
                    + "' (expected sgd, momentum, nesterov, adam, adamw or rmsprop)");
        };
    }

    /**
     * The mutable part: buffers and step count, one per training run.
     *
     * @param parameterCount the network's
     * @return a state of no steps
     */
    State newState(int parameterCount);

    private static double check(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be a positive number, not " + lr);
        }
        return lr;
    }

    private static double fraction(String what, double v) {
        if (!(v >= 0 && v < 1)) {
            throw new IllegalArgumentException(what + " must be in [0, 1), not " + v);
        }
        return v;
    }

    private static double checkL2(double l2) {
        if (!(l2 >= 0) || Double.isInfinite(l2)) {
            throw new IllegalArgumentException("L2 coefficient must be ≥ 0, not " + l2);
        }
        return l2;
    }

    /** Buffers of one run; {@link #step} applies one update to a network. */
    abstract class State {
        long steps;

        /** A state of no steps; {@link Optimizer#newState} makes them. */
        State() {
        }

        /**
         * Updates {@code net} from {@code gradSum}, the gradient summed over {@code batch} samples;
         * {@code lr} is the learning rate for this step (a schedule may change it); biases are
         * updated only if {@code updateBiases}.
         *
         * @param net the network to update
         * @param gradSum the gradient, summed over the batch
         * @param batch the number of samples summed
         * @param lr this step's learning rate
         * @param updateBiases whether the biases change too
         */
        public final void step(Network net, float[] gradSum, int batch, double lr, boolean updateBiases) {
            begin();
            for (int l = 0; l < net.layerCount(); l++) {
                applyRows(net, gradSum, 1f / batch, lr, updateBiases, l, 0, net.weightRows(l));
            }
            net.parametersChanged();
        }

        /**
         * Starts an update made of {@link #applyRows} calls on disjoint rows, which may run in any
         * order and in parallel: every kernel here is elementwise, so the result is the same bits as
         * {@link #step}. The caller then calls {@link Network#parametersChanged()}.
         */
        final void begin() {
            steps++;
        }

        /**
         * Updates the weights of rows {@code [r0, r1)} of layer {@code l} (see
         * {@link Network#weightRows}), their biases and PReLU slopes, with the gradient
         * {@code scale · gradSum} (scale is 1/batch, times a clipping factor). L2 applies to the
         * weights only, as in PyTorch's advice for PReLU.
         */
        final void applyRows(Network net, float[] gradSum, float scale, double lr, boolean updateBiases,
                             int l, int r0, int r1) {
            applyWeightRows(net, gradSum, net.weightOffset(l) + r0 * net.size(l), scale, lr, l, r0, r1);
            applyBiasRows(net, gradSum, scale, lr, updateBiases, l, r0, r1);
        }

        /**
         * As {@link #applyRows} for the weights of the rows only, their gradient sum in {@code grad}
         * from {@code gOff} (rows {@code net.size(l)} apart) instead of where the parameters' layout has it.
         */
        final void applyWeightRows(Network net, float[] grad, int gOff, float scale, double lr, int l, int r0, int r1) {
            int fanIn = net.size(l);
            apply(net.parameters(), net.weightOffset(l) + r0 * fanIn, grad, gOff, (r1 - r0) * fanIn, (float) lr, scale,
                    true);
        }

        /** As {@link #applyRows} for the biases and PReLU slopes of the rows only. */
        final void applyBiasRows(Network net, float[] gradSum, float scale, double lr, boolean updateBiases,
                                 int l, int r0, int r1) {
            float[] p = net.parameters();
            if (updateBiases) {
                apply(p, net.biasOffset(l) + r0, gradSum, net.biasOffset(l) + r0, r1 - r0, (float) lr, scale, false);
            }
            if (net.hasSlopes(l)) {
                apply(p, net.slopeOffset(l) + r0, gradSum, net.slopeOffset(l) + r0, r1 - r0, (float) lr, scale, false);
            }
        }

        /** Updates {@code p[off, off+len)} from {@code g[gOff, gOff+len)}; {@code weights} says whether L2 applies. */
        abstract void apply(float[] p, int off, float[] g, int gOff, int len, float lr, float scale, boolean weights);

        /** Whether {@link #applyOuterRows} can update weights from one sample's δ and input (plain SGD can). */
        boolean appliesOuterProducts() {
            return false;
        }

        /**
         * Updates the weights of rows {@code [r0, r1)} of layer {@code l} with {@code scale} times the
         * gradient of one sample, the outer product of {@code delta[dOff + r]} and {@code x} from
         * {@code xOff}: the bits of {@link #applyRows} on that gradient, without a pass through a
         * gradient buffer.
         */
        void applyOuterRows(Network net, float[] delta, int dOff, float[] x, int xOff, float scale, double lr, int l,
                            int r0, int r1) {
            throw new UnsupportedOperationException("this optimizer needs the gradient in a buffer");
        }

        /**
         * The buffers themselves (momentum's velocity, Adam's two moments; none for plain SGD), as
         * checkpoints save them and distributed trainers average them.
         *
         * @return the live buffers, each as long as the parameters
         */
        public abstract float[][] buffers();

        /** {@return a copy of the {@link #buffers()}, to keep or to send} */
        public final float[][] copyOfBuffers() {
            float[][] live = buffers();
            float[][] copy = new float[live.length][];
            for (int i = 0; i < live.length; i++) {
                copy[i] = live[i].clone();
            }
            return copy;
        }

        /** {@return the updates made so far (Adam's bias correction depends on it)} */
        public final long steps() {
            return steps;
        }

        /**
         * Continues from a saved step count and buffers (copied in).
         *
         * @param steps the updates made
         * @param saved buffers shaped as {@link #buffers()}
         */
        public final void restore(long steps, float[][] saved) {
            float[][] mine = buffers();
            if (saved.length != mine.length) {
                throw new IllegalArgumentException("the checkpoint has " + saved.length + " optimizer buffers, "
                        + "this optimizer " + mine.length + " (was it trained with another optimizer?)");
            }
            for (int i = 0; i < mine.length; i++) {
                if (saved[i].length != mine[i].length) {
                    throw new IllegalArgumentException("optimizer buffer " + i + " has " + saved[i].length
                            + " values, expected " + mine[i].length);
                }
                System.arraycopy(saved[i], 0, mine[i], 0, mine[i].length);
            }
            this.steps = steps;
        }
    }

    /**
     * SGD, with momentum when {@code momentum > 0}; made by {@link #sgd}, {@link #momentum} and {@link #nesterov}.
     *
     * @param learningRate the learning rate
     * @param l2 λ
     * @param momentum the momentum, 0 for none
     * @param nesterov whether it is Nesterov's
     */
    record Sgd(double learningRate, double l2, double momentum, boolean nesterov) implements Optimizer {
        @Override
        public Optimizer withL2(double l2) {
            return new Sgd(learningRate, checkL2(l2), momentum, nesterov);
        }

        @Override
        public Optimizer withLearningRate(double lr) {
            return new Sgd(check(lr), l2, momentum, nesterov);
        }

        @Override
        public String describe() {
            String name = momentum == 0 ? "sgd" : nesterov ? "nesterov" : "momentum";
            return name + "(lr=" + learningRate + (momentum == 0 ? "" : ", momentum=" + momentum)
                    + (l2 == 0 ? "" : ", l2=" + l2) + ")";
        }

        @Override
        public State newState(int n) {
            float[] velocity = momentum == 0 ? null : new float[n];
            return new State() {
                @Override
                void apply(float[] p, int off, float[] g, int gOff, int len, float lr, float scale, boolean weights) {
                    float lambda = weights ? (float) l2 : 0f;
                    if (velocity == null) {
                        Kernels.get().sgdStep(p, off, g, gOff, len, lr, scale, lambda);
                    } else {
                        Kernels.get().momentumStep(p, velocity, off, g, gOff, len, lr, scale, lambda, (float) momentum,
                                nesterov);
                    }
                }

                @Override
                boolean appliesOuterProducts() {
                    return velocity == null;
                }

                @Override
                void applyOuterRows(Network net, float[] delta, int dOff, float[] x, int xOff, float scale, double lr,
                                    int l, int r0, int r1) {
                    int fanIn = net.size(l);
                    Kernels.get().sgdOuterStep(net.parameters(), net.weightOffset(l) + r0 * fanIn, delta, dOff + r0, x, xOff,
                            r1 - r0, fanIn, (float) lr, scale, (float) l2);
                }

                @Override
                public float[][] buffers() {
                    return velocity == null ? new float[0][] : new float[][] {velocity};
                }
            };
        }
    }

    /**
     * Adam, and AdamW when {@code weightDecay > 0}; made by {@link #adam} and {@link #adamW}.
     *
     * @param learningRate the learning rate
     * @param l2 λ (added to the gradient)
     * @param weightDecay decoupled weight decay (AdamW), 0 for Adam
     * @param beta1 the first moment's decay
     * @param beta2 the second moment's decay
     * @param eps added to the denominator
     */
    record Adam(double learningRate, double l2, double weightDecay, double beta1, double beta2, double eps)
            implements Optimizer {
        @Override
        public Optimizer withL2(double l2) {
            return new Adam(learningRate, checkL2(l2), weightDecay, beta1, beta2, eps);
        }

        @Override
        public Optimizer withLearningRate(double lr) {
            return new Adam(check(lr), l2, weightDecay, beta1, beta2, eps);
        }

        @Override
        public String describe() {
            return (weightDecay == 0 ? "adam" : "adamw") + "(lr=" + learningRate
                    + (weightDecay == 0 ? "" : ", weight_decay=" + weightDecay) + (l2 == 0 ? "" : ", l2=" + l2) + ")";
        }

        @Override
        public State newState(int n) {
            float[] m = new float[n];
            float[] v = new float[n];
            return new State() {
                @Override
                void apply(float[] p, int off, float[] g, int gOff, int len, float lr, float scale, boolean weights) {
                    float c1 = (float) (1 / (1 - Math.pow(beta1, steps)));
                    float c2 = (float) (1 / (1 - Math.pow(beta2, steps)));
                    Kernels.get().adamStep(p, m, v, off, g, gOff, len, lr, scale, weights ? (float) l2 : 0f,
                            weights ? (float) weightDecay : 0f, (float) beta1, (float) beta2, (float) eps, c1, c2);
                }

                @Override
                public float[][] buffers() {
                    return new float[][] {m, v};
                }
            };
        }
    }

    /**
     * RMSprop; made by {@link #rmsprop}.
     *
     * @param learningRate the learning rate
     * @param l2 λ
     * @param alpha the squares' decay
     * @param eps added to the denominator
     */
    record RmsProp(double learningRate, double l2, double alpha, double eps) implements Optimizer {
        @Override
        public Optimizer withL2(double l2) {
            return new RmsProp(learningRate, checkL2(l2), alpha, eps);
        }

        @Override
        public Optimizer withLearningRate(double lr) {
            return new RmsProp(check(lr), l2, alpha, eps);
        }

        @Override
        public String describe() {
            return "rmsprop(lr=" + learningRate + (l2 == 0 ? "" : ", l2=" + l2) + ")";
        }

        @Override
        public State newState(int n) {
            float[] r = new float[n];
            return new State() {
                @Override
                void apply(float[] p, int off, float[] g, int gOff, int len, float lr, float scale, boolean weights) {
                    Kernels.get().rmspropStep(p, r, off, g, gOff, len, lr, scale, weights ? (float) l2 : 0f, (float) alpha,
                            (float) eps);
                }

                @Override
                public float[][] buffers() {
                    return new float[][] {r};
                }
            };
        }
    }
}
