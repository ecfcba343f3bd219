package bp.nn;

/**
 * A layer's activation with its parameter: α, the slope of {@code leaky_relu} below 0 or the
 * scale of {@code elu}'s negative side, written {@code leaky_relu:0.2} or {@code elu:0.5}
 * (without it, PyTorch's defaults 0.01 and 1). The other activations take no parameter.
 */
public record LayerActivation(Activation kind, float alpha) {

    public LayerActivation {
        if (kind.hasAlpha() && (!(alpha > 0) || Float.isInfinite(alpha))) {
            throw new IllegalArgumentException(kind.label() + ": α must be a positive number, not " + alpha);
        }
        if (!kind.hasAlpha()) {
            alpha = 0f;
        }
    }

    /** The activation with its default parameter. */
    public static LayerActivation of(Activation kind) {
        return new LayerActivation(kind, kind.defaultAlpha());
    }

    /** Parses {@code relu}, {@code leaky_relu}, {@code leaky_relu:0.2}, {@code elu:0.5}, …. */
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

    /** The name as written in model files and descriptions: the parameter only where not the default. */
    public String label() {
        return kind.hasAlpha() && alpha != kind.defaultAlpha() ? kind.label() + ":" + alpha : kind.label();
    }
}
