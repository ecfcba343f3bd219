package bp.train;

import java.util.Locale;

/**
 * A learning-rate schedule: the factor by which epoch {@code e} (counting from 0) multiplies the
 * optimizer's base learning rate, as PyTorch's epoch-stepped schedulers do.
 */
public sealed interface Schedule {

    Schedule CONSTANT = new Constant();

    /** The learning-rate factor of epoch {@code epoch} (0-based) of {@code epochs}. */
    double factor(int epoch, int epochs);

    String describe();

    /** {@code γ^⌊e/k⌋}: multiply by γ every k epochs (PyTorch's StepLR). */
    static Schedule step(int everyEpochs, double gamma) {
        if (everyEpochs < 1 || !(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("step schedule needs every ≥ 1 and 0 < gamma ≤ 1, got " + everyEpochs
                    + " and " + gamma);
        }
        return new Step(everyEpochs, gamma);
    }

    /** {@code γ^e} (PyTorch's ExponentialLR). */
    static Schedule exponential(double gamma) {
        if (!(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("exponential schedule needs 0 < gamma ≤ 1, got " + gamma);
        }
        return new Exponential(gamma);
    }

    /** {@code ½(1 + cos(π·e/E))} over the run's E epochs (PyTorch's CosineAnnealingLR to 0). */
    static Schedule cosine() {
        return new Cosine();
    }

    /** {@code constant}, {@code step:K:GAMMA}, {@code exp:GAMMA} or {@code cosine}; the error lists them. */
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
