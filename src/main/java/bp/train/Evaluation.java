package bp.train;

/**
 * A network's mean loss on a data set and, for classification, its accuracy and confusion matrix
 * ({@code confusion[actual][predicted]} counts), or for regression the mean squared and absolute
 * errors over all outputs and R² (1 − residual / total sum of squares, averaged over the outputs
 * as scikit-learn's {@code r2_score} does). Figures that do not apply are NaN (the matrix null).
 *
 * @param samples rows evaluated
 * @param loss mean loss
 * @param accuracy fraction classified correctly (NaN for regression)
 * @param confusion counts by true class (row) and predicted class (column); null for regression
 * @param meanSquaredError mean squared error over all outputs (regression)
 * @param meanAbsoluteError mean absolute error over all outputs (regression)
 * @param r2 the coefficient of determination (regression)
 */
public record Evaluation(int samples, double loss, double accuracy, long[][] confusion,
                         double meanSquaredError, double meanAbsoluteError, double r2) {

    /**
     * Of the samples predicted as class c, the fraction that are c (NaN when none is predicted c).
     *
     * @param c the class
     * @return the precision
     */
    public double precision(int c) {
        long predicted = 0;
        for (long[] row : confusion) {
            predicted += row[c];
        }
        return predicted == 0 ? Double.NaN : (double) confusion[c][c] / predicted;
    }

    /**
     * Of the samples of class c, the fraction predicted as c (NaN when there are none).
     *
     * @param c the class
     * @return the recall
     */
    public double recall(int c) {
        long actual = 0;
        for (long v : confusion[c]) {
            actual += v;
        }
        return actual == 0 ? Double.NaN : (double) confusion[c][c] / actual;
    }

    /**
     * The harmonic mean of precision and recall of class c (0 when both are 0).
     *
     * @param c the class
     * @return the F1 score
     */
    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        if (Double.isNaN(p) || Double.isNaN(r)) {
            return Double.NaN;
        }
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /**
     * The mean F1 over the classes that have samples or predictions (macro average).
     *
     * @return the mean F1 over the classes
     */
    public double macroF1() {
        double sum = 0;
        int count = 0;
        for (int c = 0; c < confusion.length; c++) {
            double f = f1(c);
            if (!Double.isNaN(f)) {
                sum += f;
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    /**
     * The figures that apply, readably: {@code Evaluation[samples=359, loss=0.1234, accuracy=96.94%,
     * macroF1=0.9690, confusion=[[35, 0], [1, 33]]]}, or the errors and R² for regression.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Evaluation[samples=").append(samples)
                .append(String.format(java.util.Locale.ROOT, ", loss=%.4f", loss));
        if (confusion != null) {
            sb.append(String.format(java.util.Locale.ROOT, ", accuracy=%.2f%%, macroF1=%.4f", 100 * accuracy, macroF1()))
                    .append(", confusion=").append(java.util.Arrays.deepToString(confusion));
        }
        if (!Double.isNaN(meanSquaredError)) {
            sb.append(String.format(java.util.Locale.ROOT, ", mse=%.6f, mae=%.6f, r2=%.4f", meanSquaredError,
                    meanAbsoluteError, r2));
        }
        return sb.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Evaluation e && samples == e.samples && Double.compare(loss, e.loss) == 0
                && Double.compare(accuracy, e.accuracy) == 0 && java.util.Arrays.deepEquals(confusion, e.confusion)
                && Double.compare(meanSquaredError, e.meanSquaredError) == 0
                && Double.compare(meanAbsoluteError, e.meanAbsoluteError) == 0 && Double.compare(r2, e.r2) == 0;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(samples, loss, accuracy, java.util.Arrays.deepHashCode(confusion),
                meanSquaredError, meanAbsoluteError, r2);
    }
}
