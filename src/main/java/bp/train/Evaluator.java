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
 * not depend on the thread count. A training run keeps one per data set and runs it after every
 * epoch: its workspaces (4 MB each for 784-512-256-10) are made once, not every epoch.
 */
final class Evaluator {
    private static final int CHUNK = 256;

    private final Network net;
    private final Dataset data;
    private TransposedWeights transposed;
    private final int n;
    private final int parts;
    private final int classes;
    private final int[] identity;
    private final boolean binary;
    /** Each part's sums, added in part order at the end. */
    private final EvaluationSums[] sums;
    /** Each part's workspace, made when the part first runs. */
    private final Workspace[] workspaces;

    Evaluator(Network net, Dataset data, int threads) {
        this.net = net;
        this.data = data;
        this.n = data.size();
        this.parts = Math.min(BatchGradient.ceilDiv(n, CHUNK), 4 * threads);
        this.classes = net.outputs();
        // one sigmoid output on regression data is binary classification
        this.binary = !data.isClassification() && classes == 1
                && net.activation(net.layerCount() - 1) == Activation.SIGMOID;
        this.identity = new int[n];
        Arrays.setAll(identity, i -> i);
        this.sums = new EvaluationSums[parts];
        this.workspaces = new Workspace[parts];
    }

    /** The network as it is now, on the data set, on the threads of {@code parallel}. */
    Evaluation run(Parallel parallel) {
        begin();
        parallel.forEach(parts, this::part);
        return total().evaluation();
    }

    /** The sums, computed on the calling thread. */
    EvaluationSums runHere() {
        begin();
        for (int p = 0; p < parts; p++) {
            part(p);
        }
        return total();
    }

    /** Fresh sums, and the network's packed weights as its parameters are now. */
    private void begin() {
        transposed = NetworkInternals.transposedWeights(net);
        for (int p = 0; p < parts; p++) {
            sums[p] = new EvaluationSums(data.isClassification(), binary, classes);
        }
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
        if (workspaces[part] == null) {
            workspaces[part] = new Workspace(net, Math.min(CHUNK, n));
        }
        Workspace ws = workspaces[part];
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
            counts.countClass(ws.labels()[r], Workspace.argmax(out, ws.offset() + r * classes, classes));
        }
    }

    private void addResiduals(Workspace ws, int rows, EvaluationSums acc) {
        float[] out = ws.output();
        float[] target = ws.target();
        for (int i = 0; i < rows * classes; i++) {
            acc.addResidual(i % classes, out[ws.offset() + i], target[ws.offset() + i]);
        }
    }
}
