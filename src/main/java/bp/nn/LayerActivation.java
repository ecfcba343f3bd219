package bp.nn;

/**
 * A layer's activation with its parameter α: the slope of {@code leaky_relu} below 0, the scale of
 * {@code elu}'s negative side, the initial slope of {@code prelu}, or the number of pieces of
 * {@code maxout}; written {@code leaky_relu:0.2}, {@code elu:0.5}, {@code prelu:0.1},
 * {@code maxout:3} (without it, the defaults of {@link Activation#defaultAlpha()}). The other
 * activations take no parameter.
 *
 * @param kind the activation
 * @param alpha its parameter α (the default when not given)
 */
public record LayerActivation(Activation kind, float alpha) {

    /** The most pieces a maxout unit may have. */
    public static final int MAX_PIECES = 64;

    /** Checks α for the kinds that have one. */
    public LayerActivation {
        switch (kind) {
            case PRELU -> {
                if (!Float.isFinite(alpha)) {
                    throw new IllegalArgumentException("prelu: the initial slope must be a finite number, not " + alpha);
                }
            }
            case MAXOUT -> {
                if (!(alpha >= 2 && alpha <= MAX_PIECES) || alpha != Math.rint(alpha)) {
                    throw new IllegalArgumentException("maxout: the number of pieces must be a whole number in 2.."
                            + MAX_PIECES + ", not " + alpha);
                }
            }
            default -> {
                // the scale or slope of an elementwise activation (leaky_relu, elu)
                if (kind.hasAlpha() && (!(alpha > 0) || Float.isInfinite(alpha))) {
                    throw new IllegalArgumentException(kind.label() + ": α must be a positive number, not " + alpha);
                }
            }
        }
        if (!kind.hasAlpha()) {
            alpha = 0f;
        }
    }

    /**
     * The activation with its default parameter.
     *
     * @param kind the activation
     * @return it with its default α
     */
    public static LayerActivation of(Activation kind) {
        return new LayerActivation(kind, kind.defaultAlpha());
    }

    /**
     * Pre-activations per unit: maxout's pieces, 1 for every other activation.
     *
     * @return the pieces of a maxout unit, 1 for the others
     */
    public int pieces() {
        return kind == Activation.MAXOUT ? (int) alpha : 1;
    }

    /**
     * Parses {@code relu}, {@code leaky_relu}, {@code leaky_relu:0.2}, {@code elu:0.5}, {@code maxout:3}, ….
     *
     * @param text a name, then {@code :α} where it takes one, e.g. {@code leaky_relu:0.2}
     * @return the activation
     */
    public static LayerActivation parse(String text) {
        String[] nameAndAlpha = text.trim().split(":", 2);
        Activation kind = Activation.parse(nameAndAlpha[0]);
        if (nameAndAlpha.length == 1) {
            return of(kind);
        }
        if (!kind.hasAlpha()) {
            throw new IllegalArgumentException("activation '" + kind.label() + "' takes no parameter, got '" + text + "'");
        }
        try {
            return new LayerActivation(kind, Float.parseFloat(nameAndAlpha[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("activation '" + text + "': α must be a number");
        }
    }

    /**
     * The name as written in model files and descriptions: the parameter only where not the default.
     *
     * @return the name as {@link #parse} takes it
     */
    public String label() {
        if (!kind.hasAlpha() || alpha == kind.defaultAlpha()) {
            return kind.label();
        }
        return kind.label() + ":" + (kind == Activation.MAXOUT ? String.valueOf(pieces()) : String.valueOf(alpha));
    }
}
