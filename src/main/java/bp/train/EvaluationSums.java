package bp.train;

import bp.data.Dataset;
import bp.nn.Network;

import java.io.Serializable;

/**
 * The sums an {@link Evaluation} is made of, for part of the rows: the summed loss, the confusion
 * counts and, for regression, each output's Σ(a − t)², Σ|a − t|, Σt and Σt². Sums of parts added
 * in a fixed order give the same evaluation wherever the parts were computed: bp-spark evaluates
 * each partition on its executor and adds the sums on the driver.
 */
public final class EvaluationSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private final boolean classification;
    /** One sigmoid output on regression data is binary classification: threshold 0.5 on both sides. */
    private final boolean binary;
    private final int outputs;
    private long samples;
    private double loss;
    private final long[][] confusion;
    /** Regression: per output, Σ(a−t)², Σ|a−t|, Σt, Σt²; null for classification. */
    private final double[][] residuals;

    EvaluationSums(boolean classification, boolean binary, int outputs) {
        this.classification = classification;
        this.binary = binary;
        this.outputs = outputs;
        int labels = Math.max(outputs, 2);
        this.confusion = new long[labels][labels];
        this.residuals = classification ? null : new double[4][outputs];
    }

    /**
     * The sums of {@code net} on {@code data}, computed on one thread (an executor's task).
     *
     * @param net the network
     * @param data the rows
     * @return their sums
     */
    public static EvaluationSums of(Network net, Dataset data) {
        TrainingRun.checkShapes(net, Rows.of(data));
        return new Evaluator(net, data, 1).runHere();
    }

    /**
     * Adds another part's sums to these.
     *
     * @param other sums of the same network's outputs, classification or not like these
     * @return this
     */
    public EvaluationSums add(EvaluationSums other) {
        if (other.classification != classification || other.outputs != outputs) {
            throw new IllegalArgumentException("the sums are of different kinds of rows");
        }
        samples += other.samples;
        loss += other.loss;
        for (int a = 0; a < confusion.length; a++) {
            for (int p = 0; p < confusion.length; p++) {
                confusion[a][p] += other.confusion[a][p];
            }
        }
        if (residuals != null) {
            for (int k = 0; k < residuals.length; k++) {
                for (int j = 0; j < outputs; j++) {
                    residuals[k][j] += other.residuals[k][j];
                }
            }
        }
        return this;
    }

    void addLoss(long rows, double summedLoss) {
        samples += rows;
        loss += summedLoss;
    }

    void countClass(int actual, int predicted) {
        confusion[actual][predicted]++;
    }

    /** A regression output's residual; a binary output also counts its classes at the threshold 0.5. */
    void addResidual(int output, float predicted, float target) {
        double e = (double) predicted - target;
        residuals[0][output] += e * e;
        residuals[1][output] += Math.abs(e);
        residuals[2][output] += target;
        residuals[3][output] += (double) target * target;
        if (binary) {
            confusion[target >= 0.5f ? 1 : 0][predicted >= 0.5f ? 1 : 0]++;
        }
    }

    /** {@return the rows summed} */
    public long samples() {
        return samples;
    }

    /** {@return the figures of all the rows summed} */
    public Evaluation evaluation() {
        int n = (int) samples;
        long correct = 0;
        for (int a = 0; a < confusion.length; a++) {
            correct += confusion[a][a];
        }
        long[][] matrix = new long[confusion.length][];
        for (int a = 0; a < confusion.length; a++) {
            matrix[a] = confusion[a].clone();
        }
        if (classification) {
            return new Evaluation(n, loss / n, (double) correct / n, matrix, Double.NaN, Double.NaN, Double.NaN);
        }
        double squares = 0;
        double absolute = 0;
        double r2 = 0;
        for (int j = 0; j < outputs; j++) {
            double res = residuals[0][j];
            squares += res;
            absolute += residuals[1][j];
            double totalSquares = residuals[3][j] - residuals[2][j] * residuals[2][j] / n;
            r2 += totalSquares > 0 ? 1 - res / totalSquares : Double.NaN;
        }
        return new Evaluation(n, loss / n, binary ? (double) correct / n : Double.NaN, binary ? matrix : null,
                squares / ((double) n * outputs), absolute / ((double) n * outputs), r2 / outputs);
    }
}
