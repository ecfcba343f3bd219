package bp.nn;

import java.util.Arrays;

/**
 * A per-feature affine scaling of a network's inputs, {@code x' = (x − offset) / divisor}, kept
 * with the model so that {@link Network#predict} takes features on their natural scales (prices,
 * counts, millimetres) as the training data had them. {@code standard} uses the training rows' mean
 * and standard deviation, {@code minmax} their minimum and range; a constant feature gets divisor 1.
 * An {@code affine} scaling comes from elsewhere, such as an imported ONNX model's Sub and Div.
 *
 * @param kind {@code standard} or {@code minmax}
 * @param offset what is subtracted from each feature
 * @param divisor what each feature is then divided by
 */
public record InputScaling(String kind, float[] offset, float[] divisor) {

    /** Checks that there are as many offsets as divisors, all finite and no divisor 0, and copies them. */
    public InputScaling {
        if (offset.length != divisor.length) {
            throw new IllegalArgumentException("input scaling: " + offset.length + " offsets for " + divisor.length
                    + " divisors");
        }
        for (int j = 0; j < divisor.length; j++) {
            if (!Float.isFinite(offset[j]) || !Float.isFinite(divisor[j]) || divisor[j] == 0) {
                throw new IllegalArgumentException("input scaling of feature " + j + ": offset " + offset[j]
                        + " and divisor " + divisor[j] + ", expected finite numbers and a divisor other than 0");
            }
        }
        offset = offset.clone();
        divisor = divisor.clone();
    }

    /**
     * The scaling {@code kind} ({@code standard} or {@code minmax}) fitted to {@code rows} rows of {@code x}.
     *
     * @param kind {@code standard} (mean 0, deviation 1) or {@code minmax} (0 to 1)
     * @param x the rows, one after another
     * @param rows how many rows
     * @param width features per row
     * @return the scaling
     */
    public static InputScaling fit(String kind, float[] x, int rows, int width) {
        double[] a = new double[width];
        double[] b = new double[width];
        switch (kind) {
            case "standard" -> {
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < width; j++) {
                        a[j] += x[r * width + j];
                    }
                }
                for (int j = 0; j < width; j++) {
                    a[j] /= rows;
                }
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < width; j++) {
                        double d = x[r * width + j] - a[j];
                        b[j] += d * d;
                    }
                }
                for (int j = 0; j < width; j++) {
                    b[j] = Math.sqrt(b[j] / rows);
                }
            }
            case "minmax" -> {
                Arrays.fill(a, Double.POSITIVE_INFINITY);
                double[] max = new double[width];
                Arrays.fill(max, Double.NEGATIVE_INFINITY);
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < width; j++) {
                        a[j] = Math.min(a[j], x[r * width + j]);
                        max[j] = Math.max(max[j], x[r * width + j]);
                    }
                }
                for (int j = 0; j < width; j++) {
                    b[j] = max[j] - a[j];
                }
            }
            default -> throw new IllegalArgumentException("input scaling '" + kind + "': expected standard or minmax");
        }
        float[] offset = new float[width];
        float[] divisor = new float[width];
        for (int j = 0; j < width; j++) {
            offset[j] = (float) a[j];
            divisor[j] = b[j] > 0 && (float) b[j] > 0 ? (float) b[j] : 1f;
        }
        return new InputScaling(kind, offset, divisor);
    }

    /**
     * {@code rows} rows of {@code x} scaled, in a new array (the same operations as the ONNX export's Sub and Div).
     *
     * @param x the rows, one after another
     * @param rows how many rows
     * @return the scaled rows
     */
    public float[] apply(float[] x, int rows) {
        float[] out = new float[x.length];
        apply(x, 0, rows, out, 0);
        return out;
    }

    /** {@code rows} rows of {@code x} from {@code from} on, scaled into {@code out} from {@code outFrom} on. */
    void apply(float[] x, int from, int rows, float[] out, int outFrom) {
        int width = offset.length;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < width; j++) {
                out[outFrom + r * width + j] = (x[from + r * width + j] - offset[j]) / divisor[j];
            }
        }
    }

    /**
     * What is subtracted from each feature.
     *
     * @return a copy
     */
    @Override
    public float[] offset() {
        return offset.clone();
    }

    /**
     * What each feature is then divided by.
     *
     * @return a copy
     */
    @Override
    public float[] divisor() {
        return divisor.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InputScaling s && kind.equals(s.kind) && Arrays.equals(offset, s.offset)
                && Arrays.equals(divisor, s.divisor);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Arrays.hashCode(offset) * 17 + Arrays.hashCode(divisor);
    }

    @Override
    public String toString() {
        return kind + " scaling of " + offset.length + " inputs";
    }
}
