package bp.nn;

import java.util.random.RandomGenerator;

/** How a network's weights and biases get their first values. */
public sealed interface Initializer {

    /**
     * PyTorch's default for {@code nn.Linear} (kaiming_uniform with a = √5): weights and biases
     * uniform in {@code ±1/√fan_in}.
     */
    Initializer PYTORCH_DEFAULT = new Uniform();

    /** Glorot and Bengio: weights uniform in {@code ±√(6/(fan_in + fan_out))}, biases zero. */
    Initializer XAVIER_UNIFORM = new Xavier(false);

    /** Glorot and Bengio: weights from {@code N(0, 2/(fan_in + fan_out))}, biases zero. */
    Initializer XAVIER_NORMAL = new Xavier(true);

    /** He et al. (for ReLU): weights from {@code N(0, 2/fan_in)}, biases zero. */
    Initializer HE_NORMAL = new He();

    /**
     * Weights from {@code N(0, σ²)}, biases zero.
     *
     * @param sigma the standard deviation, positive
     * @return the initialiser
     */
    static Initializer normal(double sigma) {
        if (!(sigma > 0) || Double.isInfinite(sigma)) {
            throw new IllegalArgumentException("normal initialiser: sigma must be a positive number, not " + sigma);
        }
        return new Normal(sigma);
    }

    /**
     * Parses {@code uniform}, {@code xavier}, {@code xavier_normal}, {@code he} or {@code normal:SIGMA}.
     *
     * @param text {@code uniform}, {@code xavier}, {@code xavier_normal}, {@code he} or {@code normal:SIGMA}
     * @return the initialiser
     */
    static Initializer parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        switch (t) {
            case "uniform", "default" -> {
                return PYTORCH_DEFAULT;
            }
            case "xavier", "xavier_uniform", "glorot" -> {
                return XAVIER_UNIFORM;
            }
            case "xavier_normal", "glorot_normal" -> {
                return XAVIER_NORMAL;
            }
            case "he", "he_normal", "kaiming" -> {
                return HE_NORMAL;
            }
            default -> { }
        }
        if (t.startsWith("normal:")) {
            try {
                return normal(Double.parseDouble(t.substring("normal:".length())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("initialiser '" + text + "': expected normal:SIGMA with a number");
            }
        }
        throw new IllegalArgumentException("unknown initialiser '" + text
                + "' (expected uniform, xavier, xavier_normal, he or normal:SIGMA)");
    }

    /**
     * Fills one layer's weights {@code [out × in]} and biases {@code [out]}.
     *
     * @param params the network's parameters
     * @param weightOffset where the weights start
     * @param biasOffset where the biases start
     * @param in the layer's inputs (fan-in)
     * @param out its rows (fan-out)
     * @param rng the source of randomness
     */
    void fill(float[] params, int weightOffset, int biasOffset, int in, int out, RandomGenerator rng);

    /** PyTorch's default for {@code nn.Linear}; see {@link #PYTORCH_DEFAULT}. */
    record Uniform() implements Initializer {
        @Override
        public void fill(float[] params, int weightOffset, int biasOffset, int in, int out, RandomGenerator rng) {
            double bound = 1.0 / Math.sqrt(in);
            for (int i = 0; i < in * out; i++) {
                params[weightOffset + i] = (float) rng.nextDouble(-bound, bound);
            }
            for (int i = 0; i < out; i++) {
                params[biasOffset + i] = (float) rng.nextDouble(-bound, bound);
            }
        }

        @Override
        public String toString() {
            return "uniform";
        }
    }

    /**
     * Weights from N(0, σ²), biases 0; see {@link #normal}.
     *
     * @param sigma the standard deviation
     */
    record Normal(double sigma) implements Initializer {
        @Override
        public void fill(float[] params, int weightOffset, int biasOffset, int in, int out, RandomGenerator rng) {
            for (int i = 0; i < in * out; i++) {
                params[weightOffset + i] = (float) (sigma * rng.nextGaussian());
            }
            java.util.Arrays.fill(params, biasOffset, biasOffset + out, 0f);
        }

        @Override
        public String toString() {
            return "normal:" + sigma;
        }
    }

    /**
     * Glorot and Bengio's, uniform or normal, biases 0.
     *
     * @param normal normal rather than uniform
     */
    record Xavier(boolean normal) implements Initializer {
        @Override
        public void fill(float[] params, int weightOffset, int biasOffset, int in, int out, RandomGenerator rng) {
            double bound = Math.sqrt(6.0 / (in + out));
            double sigma = Math.sqrt(2.0 / (in + out));
            for (int i = 0; i < in * out; i++) {
                params[weightOffset + i] = (float) (normal ? sigma * rng.nextGaussian() : rng.nextDouble(-bound, bound));
            }
            java.util.Arrays.fill(params, biasOffset, biasOffset + out, 0f);
        }

        @Override
        public String toString() {
            return normal ? "xavier_normal" : "xavier";
        }
    }

    /** He et al.'s, for ReLU layers, biases 0. */
    record He() implements Initializer {
        @Override
        public void fill(float[] params, int weightOffset, int biasOffset, int in, int out, RandomGenerator rng) {
            double sigma = Math.sqrt(2.0 / in);
            for (int i = 0; i < in * out; i++) {
                params[weightOffset + i] = (float) (sigma * rng.nextGaussian());
            }
            java.util.Arrays.fill(params, biasOffset, biasOffset + out, 0f);
        }

        @Override
        public String toString() {
            return "he";
        }
    }
}
