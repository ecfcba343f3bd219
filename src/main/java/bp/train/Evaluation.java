package bp.train;

/**
 * A network's mean loss on a data set and, for classification, its accuracy and confusion matrix
 * ({@code confusion[actual][predicted]} counts), or for regression the mean squared and absolute
 * errors over all outputs and R² (1 − residual / total sum of squares, averaged over the outputs
 * as scikit-learn's {@code r2_score} does). Figures that do not apply are NaN (the matrix null).
 */
public record Evaluation(int samples, double loss, double accuracy, long[][] confusion,
                         double meanSquaredError, double meanAbsoluteError, double r2) {

    /** Of the samples predicted as class c, the fraction that are c (NaN when none is predicted c). */
    public double precision(int c) {
        long predicted = 0;
        for (long[] row : confusion) {
            predicted += row[c];
        }
        return predicted == 0 ? Double.NaN : (double) confusion[c][c] / predicted;
    }

    /** Of the samples of class c, the fraction predicted as c (NaN when there are none). */
    public double recall(int c) {
        long actual = 0;
        for (long v : confusion[c]) {
            actual += v;
        }
        return actual == 0 ? Double.NaN : (double) confusion[c][c] / actual;
    }

    /** The harmonic mean of precision and recall of class c (0 when both are 0). */
    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        if (Double.isNaN(p) || Double.isNaN(r)) {
            return Double.NaN;
        }
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** The mean F1 over the classes that have samples or predictions (macro average). */
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
}
