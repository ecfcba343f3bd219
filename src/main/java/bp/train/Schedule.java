package bp.train;

import java.util.Locale;

/**
 * A learning-rate schedule: the factor by which epoch {@code e} (counting from 0) multiplies the
 * optimizer's base learning rate, as PyTorch's epoch-stepped schedulers do.
 */
public sealed interface Schedule {

    /** The learning rate unchanged. */
    Schedule CONSTANT = new Constant();

    /**
     * The learning-rate factor of epoch {@code epoch} (0-based) of {@code epochs}.
     *
     * @param epoch the epoch, from 0
     * @param epochs the run's epochs
     * @return the factor
     */
    double factor(int epoch, int epochs);

    /**
     * A readable description, e.g. {@code cosine}.
     *
     * @return the description
     */
    String describe();

    /**
     * {@code γ^⌊e/k⌋}: multiply by γ every k epochs (PyTorch's StepLR).
     *
     * @param everyEpochs at least 1
     * @param gamma the factor, in (0, 1]
     * @return the schedule
     */
    static Schedule step(int everyEpochs, double gamma) {
        if (everyEpochs < 1 || !(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("step schedule needs every ≥ 1 and 0 < gamma ≤ 1, got " + everyEpochs
                    + " and " + gamma);
        }
        return new Step(everyEpochs, gamma);
    }

    /**
     * {@code γ^e} (PyTorch's ExponentialLR).
     *
     * @param gamma the factor, in (0, 1]
     * @return the schedule
     */
    static Schedule exponential(double gamma) {
        if (!(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("exponential schedule needs 0 < gamma ≤ 1, got " + gamma);
        }
        return new Exponential(gamma);
    }

    /**
     * {@code ½(1 + cos(π·e/E))} over the run's E epochs (PyTorch's CosineAnnealingLR to 0).
     *
     * @return the schedule
     */
    static Schedule cosine() {
        return new Cosine();
    }

    /**
     * {@code constant}, {@code step:K:GAMMA}, {@code exp:GAMMA} or {@code cosine}; the error lists them.
     *
     * @param text {@code constant}, {@code cosine}, {@code step:K:G} or {@code exp:G}
     * @return the schedule
     */
    static Schedule parse(String text) {
        Schedule s = parseOrNull(text);
        if (s == null) {
            throw new IllegalArgumentException("unknown schedule '" + text
                    + "' (expected constant, cosine, step:EVERY:GAMMA or exp:GAMMA)");
        }
        return s;
    }

    private static Schedule parseOrNull(String text) {
        String[] parts = text.trim().toLowerCase(Locale.ROOT).split(":");
        try {
            return switch (parts[0]) {
                case "constant" -> parts.length == 1 ? CONSTANT : null;
                case "cosine" -> parts.length == 1 ? cosine() : null;
                case "step" -> parts.length == 3 ? step(Integer.parseInt(parts[1]), Double.parseDouble(parts[2])) : null;
                case "exp" -> parts.length == 2 ? exponential(Double.parseDouble(parts[1])) : null;
                default -> null;
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("schedule '" + text + "': " + e.getMessage());
        }
    }

    /** Factor 1 throughout; see {@link #CONSTANT}. */
    record Constant() implements Schedule {
        @Override
        public double factor(int epoch, int epochs) {
            return 1;
        }

        @Override
        public String describe() {
            return "constant";
        }
    }

    /**
     * Times {@code gamma} every {@code everyEpochs} epochs; see {@link #step}.
     *
     * @param everyEpochs epochs between steps
     * @param gamma the factor of each step
     */
    record Step(int everyEpochs, double gamma) implements Schedule {
        @Override
        public double factor(int epoch, int epochs) {
            return Math.pow(gamma, epoch / everyEpochs);
        }

        @Override
        public String describe() {
            return "step:" + everyEpochs + ":" + gamma;
        }
    }

    /**
     * Times {@code gamma} every epoch; see {@link #exponential}.
     *
     * @param gamma the factor per epoch
     */
    record Exponential(double gamma) implements Schedule {
        @Override
        public double factor(int epoch, int epochs) {
            return Math.pow(gamma, epoch);
        }

        @Override
        public String describe() {
            return "exp:" + gamma;
        }
    }

    /** Cosine annealing to 0; see {@link #cosine}. */
    record Cosine() implements Schedule {
        @Override
        public double factor(int epoch, int epochs) {
            return 0.5 * (1 + Math.cos(Math.PI * epoch / epochs));
        }

        @Override
        public String describe() {
            return "cosine";
        }
    }
}
