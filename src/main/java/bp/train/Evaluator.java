package bp.train;

import bp.engine.NetworkInternals;
import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.kernel.Parallel;
import bp.nn.Activation;
import bp.nn.Network;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;

import java.util.Arrays;

/**
 * One pass of a network over a data set, on every core, into an {@link Evaluation}: the rows go in
 * a fixed number of parts, each summed on its own and the parts added in order, so the figures do
 * not depend on the thread count.
 */
final class Evaluator {
    private static final int CHUNK = 256;

    private final Network net;
    private final Dataset data;
    private final TransposedWeights transposed;
    private final int n;
    private final int parts;
    private final int classes;
    private final int labels;
    /** One sigmoid output on regression data is binary classification: threshold 0.5 on both sides. */
    private final boolean binary;
    private final int[] identity;
    private final double[] loss;
    private final long[][][] confusion;
    /** Regression: per part and output, Σ(a−t)², Σ|a−t|, Σt, Σt². */
    private final double[][][] residuals;

    Evaluator(Network net, Dataset data, int threads) {
        this.net = net;
        this.data = data;
        this.transposed = NetworkInternals.transposedWeights(net);
        this.n = data.size();
        this.parts = Math.min(BatchGradient.ceilDiv(n, CHUNK), 4 * threads);
        this.classes = net.outputs();
        this.labels = Math.max(classes, 2);
        this.binary = !data.isClassification() && classes == 1
                && net.activation(net.layerCount() - 1) == Activation.SIGMOID;
        this.identity = new int[n];
        Arrays.setAll(identity, i -> i);
        this.loss = new double[parts];
        this.confusion = new long[parts][labels][labels];
        this.residuals = data.isClassification() ? null : new double[parts][4][classes];
    }

    Evaluation run(Parallel parallel) {
        parallel.forEach(parts, this::part);
        return summary();
    }

    /** The rows of part {@code part}, through a workspace of its own, a chunk at a time. */
    private void part(int part) {
        Workspace ws = new Workspace(net, Math.min(CHUNK, n));
        int end = (int) ((long) n * (part + 1) / parts);
        for (int from = (int) ((long) n * part / parts); from < end; from += CHUNK) {
            int rows = Math.min(CHUNK, end - from);
            BatchGradient.gather(data, identity, from, 0, rows, ws);
            ws.forward(net, transposed, rows);
            loss[part] += ws.loss(net, rows);
            if (data.isClassification()) {
                countClasses(ws, rows, confusion[part]);
            } else {
                addResiduals(ws, rows, residuals[part], confusion[part]);
            }
        }
    }

    private void countClasses(Workspace ws, int rows, long[][] counts) {
        float[] out = ws.output();
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int j = 1; j < classes; j++) {
                if (out[r * classes + j] > out[r * classes + best]) {
                    best = j;
                }
            }
            counts[ws.labels()[r]][best]++;
        }
    }

    private void addResiduals(Workspace ws, int rows, double[][] acc, long[][] counts) {
        float[] out = ws.output();
        float[] target = ws.target();
        for (int i = 0; i < rows * classes; i++) {
            int j = i % classes;
            double e = (double) out[i] - target[i];
            acc[0][j] += e * e;
            acc[1][j] += Math.abs(e);
            acc[2][j] += target[i];
            acc[3][j] += (double) target[i] * target[i];
            if (binary) {
                counts[target[i] >= 0.5f ? 1 : 0][out[i] >= 0.5f ? 1 : 0]++;
            }
        }
    }

    /** The parts added in order. */
    private Evaluation summary() {
        double total = 0;
        long[][] matrix = new long[labels][labels];
        long correct = 0;
        for (int part = 0; part < parts; part++) {
            total += loss[part];
            for (int a = 0; a < labels; a++) {
                for (int p = 0; p < labels; p++) {
                    matrix[a][p] += confusion[part][a][p];
                }
            }
        }
        for (int a = 0; a < labels; a++) {
            correct += matrix[a][a];
        }
        if (data.isClassification()) {
            return new Evaluation(n, total / n, (double) correct / n, matrix, Double.NaN, Double.NaN, Double.NaN);
        }
        double squares = 0;
        double absolute = 0;
        double r2 = 0;
        for (int j = 0; j < classes; j++) {
            double res = 0, abs = 0, sum = 0, sum2 = 0;
            for (int part = 0; part < parts; part++) {
                res += residuals[part][0][j];
                abs += residuals[part][1][j];
                sum += residuals[part][2][j];
                sum2 += residuals[part][3][j];
            }
            squares += res;
            absolute += abs;
            double totalSquares = sum2 - sum * sum / n;
            r2 += totalSquares > 0 ? 1 - res / totalSquares : Double.NaN;
        }
        return new Evaluation(n, total / n, binary ? (double) correct / n : Double.NaN, binary ? matrix : null,
                squares / ((double) n * classes), absolute / ((double) n * classes), r2 / classes);
    }
}
