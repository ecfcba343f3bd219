package bp.train;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.engine.NetworkInternals;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;
import bp.kernel.Parallel;
import bp.nn.Activation;
import bp.nn.Network;

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
    private final int[] identity;
    /** Each part's sums, added in part order at the end. */
    private final EvaluationSums[] sums;

    Evaluator(Network net, Dataset data, int threads) {
        this.net = net;
        this.data = data;
        this.transposed = NetworkInternals.transposedWeights(net);
        this.n = data.size();
        this.parts = Math.min(BatchGradient.ceilDiv(n, CHUNK), 4 * threads);
        this.classes = net.outputs();
        // one sigmoid output on regression data is binary classification
        boolean binary = !data.isClassification() && classes == 1
                && net.activation(net.layerCount() - 1) == Activation.SIGMOID;
        this.identity = new int[n];
        Arrays.setAll(identity, i -> i);
        this.sums = new EvaluationSums[parts];
        for (int p = 0; p < parts; p++) {
            sums[p] = new EvaluationSums(data.isClassification(), binary, classes);
        }
    }

    Evaluation run(Parallel parallel) {
        parallel.forEach(parts, this::part);
        return total().evaluation();
    }

    /** The sums, computed on the calling thread. */
    EvaluationSums runHere() {
        for (int p = 0; p < parts; p++) {
            part(p);
        }
        return total();
    }

    /** The parts' sums added in order. */
    private EvaluationSums total() {
        EvaluationSums total = sums[0];
        for (int p = 1; p < parts; p++) {
            total.add(sums[p]);
        }
        return total;
    }

    /** The rows of part {@code part}, through a workspace of its own, a chunk at a time. */
    private void part(int part) {
        Workspace ws = new Workspace(net, Math.min(CHUNK, n));
        int end = (int) ((long) n * (part + 1) / parts);
        for (int from = (int) ((long) n * part / parts); from < end; from += CHUNK) {
            int rows = Math.min(CHUNK, end - from);
            BatchGradient.gather(data, identity, from, 0, rows, ws);
            ws.forward(net, transposed, rows);
            sums[part].addLoss(rows, ws.loss(net, rows));
            if (data.isClassification()) {
                countClasses(ws, rows, sums[part]);
            } else {
                addResiduals(ws, rows, sums[part]);
            }
        }
    }

    private void countClasses(Workspace ws, int rows, EvaluationSums counts) {
        float[] out = ws.output();
        for (int r = 0; r < rows; r++) {
            counts.countClass(ws.labels()[r], Workspace.argmax(out, r * classes, classes));
        }
    }

    private void addResiduals(Workspace ws, int rows, EvaluationSums acc) {
        float[] out = ws.output();
        float[] target = ws.target();
        for (int i = 0; i < rows * classes; i++) {
            acc.addResidual(i % classes, out[i], target[i]);
        }
    }
}
