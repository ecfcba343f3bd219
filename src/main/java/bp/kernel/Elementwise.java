package bp.kernel;

/**
 * The activations that act on one value at a time, as the kernels see them; each constant holds
 * its scalar twin: the forward pass {@code out = f(z)} and the backward pass {@code δ ⊙= f'(z)},
 * written with whichever of z and {@code a = f(z)} is cheapest. {@link Kernels#activate} and
 * {@link Kernels#activateBackward} run them; {@code VectorKernels} has vector versions of some and
 * falls back to these for the others. α is the activation's parameter (0 when it has none).
 */
public enum Elementwise {
    /** {@code 1 / (1 + e^−z)}; {@code f' = a(1 − a)}. */
    SIGMOID {
        @Override
        public void forward(float[] z, float[] out, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                out[i] = (float) (1.0 / (1.0 + Math.exp(-z[i])));
            }
        }

        @Override
        public void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                delta[i] *= a[i] * (1f - a[i]);
            }
        }
    },
    /** {@code tanh z}; {@code f' = 1 − a²}. */
    TANH {
        @Override
        public void forward(float[] z, float[] out, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                out[i] = (float) Math.tanh(z[i]);
            }
        }

        @Override
        public void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                delta[i] *= 1f - a[i] * a[i];
            }
        }
    },
    /** {@code max(z, 0)}; {@code f' = [z > 0]}. */
    RELU {
        @Override
        public void forward(float[] z, float[] out, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                out[i] = Math.max(z[i], 0f);
            }
        }

        @Override
        public void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                delta[i] = z[i] > 0f ? delta[i] : 0f;
            }
        }
    },
    /** {@code z > 0 ? z : α·z}; {@code f' = z > 0 ? 1 : α}. */
    LEAKY_RELU {
        @Override
        public void forward(float[] z, float[] out, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                out[i] = z[i] > 0f ? z[i] : alpha * z[i];
            }
        }

        @Override
        public void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                delta[i] = z[i] > 0f ? delta[i] : alpha * delta[i];
            }
        }
    },
    /** {@code z > 0 ? z : α·(e^z − 1)}; {@code f' = z > 0 ? 1 : a + α}. */
    ELU {
        @Override
        public void forward(float[] z, float[] out, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                out[i] = z[i] > 0f ? z[i] : (float) (alpha * Math.expm1(z[i]));
            }
        }

        @Override
        public void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                delta[i] = z[i] > 0f ? delta[i] : delta[i] * (a[i] + alpha);
            }
        }
    },
    /**
     * {@code log(1 + e^z)}, computed as {@code max(z, 0) + log1p(e^−|z|)} so it never overflows;
     * {@code f' = σ(z) = 1 − e^−a}.
     */
    SOFTPLUS {
        @Override
        public void forward(float[] z, float[] out, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                double x = z[i];
                out[i] = (float) (Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
            }
        }

        @Override
        public void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
            for (int i = off; i < off + len; i++) {
                delta[i] = (float) (delta[i] * -Math.expm1(-a[i]));
            }
        }
    },
    /** {@code z} itself; {@code f' = 1}. */
    IDENTITY {
        @Override
        public void forward(float[] z, float[] out, int off, int len, float alpha) {
            System.arraycopy(z, off, out, off, len);
        }

        @Override
        public void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
            // δ ⊙= 1
        }
    };

    /**
     * {@code out[off, off + len) = f(z)}, one value at a time, in plain Java.
     *
     * @param z the pre-activations
     * @param out where the activations go (may be z)
     * @param off the first index
     * @param len how many values
     * @param alpha the activation's parameter (0 when it has none)
     */
    public abstract void forward(float[] z, float[] out, int off, int len, float alpha);

    /**
     * {@code delta[off, off + len) ⊙= f'(z)}, in plain Java.
     *
     * @param z the pre-activations
     * @param a the activations {@code f(z)}
     * @param delta ∂L/∂a, turned into ∂L/∂z in place
     * @param off the first index
     * @param len how many values
     * @param alpha the activation's parameter (0 when it has none)
     */
    public abstract void backward(float[] z, float[] a, float[] delta, int off, int len, float alpha);
}
