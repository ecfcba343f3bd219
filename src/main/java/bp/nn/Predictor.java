package bp.nn;

import bp.engine.NetworkInternals;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;
/**
 * Predictions of one network for an application that serves them from many threads at once.
 *
 * <p>It works on a copy of the network taken when it is made, so training or changing the
 * original afterwards changes nothing here, and any number of threads may call it at the same
 * time. Each thread gets a workspace of its own on its first call; after that a call allocates
 * nothing: rows go through in batches of up to {@value #BATCH}, and the outputs are written into
 * the caller's array. The outputs are those of {@link Network#predict(float[], int)}, bit for bit
 * (the network's {@link Network#inputScaling() input scaling} included), on the calling thread only.
 *
 * <pre>{@code
 * Predictor predictor = new Predictor(net);          // once; share it between threads
 * float[] out = new float[rows * predictor.outputs()];  // one per thread, reused
 * predictor.predict(features, rows, out);
 * }</pre>
 */
public final class Predictor {
    /** Rows per pass through a workspace: the GEMM kernels are near full speed from 64 rows, and a workspace stays about 1 MB. */
    static final int BATCH = 64;

    private final Network net;
    private final TransposedWeights transposed;
    private final ThreadLocal<Workspace> workspaces;

    /**
     * Makes a predictor of a copy of {@code network} as it is now.
     *
     * @param network the trained network
     */
    public Predictor(Network network) {
        this.net = network.copy();
        this.transposed = NetworkInternals.transposedWeights(net);
        this.workspaces = ThreadLocal.withInitial(() -> new Workspace(net, BATCH));
    }

    /**
     * Features per row.
     *
     * @return features per row
     */
    public int inputs() {
        return net.inputs();
    }

    /**
     * Outputs per row.
     *
     * @return outputs per row
     */
    public int outputs() {
        return net.outputs();
    }

    /**
     * The outputs of {@code rows} rows of {@code features} (stored row by row), into the start of {@code out}.
     *
     * @param features the rows' features one after another
     * @param rows how many rows
     * @param out at least {@code rows × outputs()} values
     */
    public void predict(float[] features, int rows, float[] out) {
        predict(features, 0, rows, out, 0);
    }

    /**
     * The outputs of the {@code rows} rows of features that start at {@code featuresFrom}, written
     * as {@code rows × outputs()} values from {@code outFrom} on.
     *
     * @param features holds the rows' features one after another
     * @param featuresFrom where the first row starts
     * @param rows how many rows
     * @param out where the outputs go
     * @param outFrom where the first row's outputs go
     */
    public void predict(float[] features, int featuresFrom, int rows, float[] out, int outFrom) {
        int in = inputs();
        int outs = outputs();
        if (rows < 0 || featuresFrom < 0 || (long) featuresFrom + (long) rows * in > features.length) {
            throw new IllegalArgumentException(rows + " rows of " + in + " features from index " + featuresFrom
                    + " do not fit in " + features.length + " values");
        }
        if (outFrom < 0 || (long) outFrom + (long) rows * outs > out.length) {
            throw new IllegalArgumentException(rows + " rows of " + outs + " outputs from index " + outFrom
                    + " do not fit in an array of " + out.length);
        }
        Workspace ws = workspaces.get();
        for (int r = 0; r < rows; r += BATCH) {
            int n = Math.min(BATCH, rows - r);
            pass(ws, features, featuresFrom + r * in, n);
            System.arraycopy(ws.output(), ws.offset(), out, outFrom + r * outs, n * outs);
        }
    }

    /**
     * The index of the largest output for one row of features (the class, for a classifier).
     *
     * @param features one row of features
     * @return the index of the largest output
     */
    public int classify(float[] features) {
        if (features.length != inputs()) {
            throw new IllegalArgumentException("expected " + inputs() + " features, got " + features.length);
        }
        Workspace ws = workspaces.get();
        pass(ws, features, 0, 1);
        return Workspace.argmax(ws.output(), ws.offset(), outputs());
    }

    /** {@code rows} rows of features from {@code from} through the network, into the workspace's outputs. */
    private void pass(Workspace ws, float[] features, int from, int rows) {
        InputScaling scaling = net.inputScaling();
        if (scaling == null) {
            ws.forward(net, transposed, features, from, rows); // the first layer reads the rows in place
        } else {
            scaling.apply(features, from, rows, ws.input(), ws.offset());
            ws.forward(net, transposed, rows);
        }
    }
}
