package bp.engine;

import bp.kernel.Kernels;
import bp.nn.Loss;

/** Each {@link Loss}'s value and gradient at the output layer, row by row. */
final class LossGradient {

    private LossGradient() {
    }

    /**
     * Whether the loss includes its output activation, so that {@link #outputDelta} gives the
     * gradient by z ({@code a − t}) rather than by the outputs a.
     */
    static boolean fusedWithOutput(Loss loss) {
        return loss == Loss.CROSS_ENTROPY || loss == Loss.BINARY_CROSS_ENTROPY;
    }

    /**
     * Writes the loss's gradient per sample (not yet divided by the batch size) of rows
     * {@code [r0, r1)} into {@code delta}: by the outputs a, or by the output layer's z when
     * {@link #fusedWithOutput}. Row r of each array starts at {@code origin + r·cols}. Each row's
     * loss goes to {@code rowLoss[r]}, so that a batch's sum is taken in row order however its rows
     * were shared out.
     */
    static void outputDelta(Loss loss, Kernels k, float[] z, float[] a, float[] target, float[] delta, int origin, int r0,
                            int r1, int cols, double[] rowLoss) {
        k.subtract(a, target, delta, origin + r0 * cols, (r1 - r0) * cols);
        for (int r = r0; r < r1; r++) {
            rowLoss[r] = rowLoss(loss, z, target, delta, origin + r * cols, cols);
        }
        for (int i = origin + r0 * cols; i < origin + r1 * cols; i++) {
            if (Math.abs(delta[i]) < DELTA_FLOOR) {
                delta[i] = 0f;
            }
        }
    }

    /**
     * Output gradients smaller than this are taken as 0. A confident network's softmax gives
     * probabilities down to 10⁻³⁹ (2.6 % of them subnormal after 40 epochs of the default network
     * with Adam), and their gradients, multiplied by weights and activations through the backward
     * pass, make subnormal products, each a microcode assist on Intel's cores. What they would
     * add to a weight's gradient is 30 orders of magnitude below a float's precision of any
     * gradient that moves a weight.
     */
    static final float DELTA_FLOOR = 0x1p-100f;

    /** The loss of the row at {@code off}, turning its {@code delta = a − t} into the loss's gradient. */
    private static double rowLoss(Loss loss, float[] z, float[] target, float[] delta, int off, int cols) {
        int end = off + cols;
        double sum = 0;
        switch (loss) {
            case SSE -> {
                for (int i = off; i < end; i++) {
                    sum += 0.5 * (double) delta[i] * delta[i];
                }
            }
            case MSE -> {
                for (int i = off; i < end; i++) {
                    sum += (double) delta[i] * delta[i];
                }
                sum /= cols;
                float twoOverN = 2f / cols;
                for (int i = off; i < end; i++) {
                    delta[i] *= twoOverN;
                }
            }
            case MAE -> {
                float oneOverN = 1f / cols;
                for (int i = off; i < end; i++) {
                    float e = delta[i];
                    sum += Math.abs((double) e);
                    delta[i] = e > 0 ? oneOverN : e < 0 ? -oneOverN : 0f;
                }
                sum /= cols;
            }
            case BINARY_CROSS_ENTROPY -> {
                float oneOverN = 1f / cols;
                for (int i = off; i < end; i++) {
                    double x = z[i];
                    sum += Math.max(x, 0) - x * target[i] + Math.log1p(Math.exp(-Math.abs(x)));
                    delta[i] *= oneOverN;
                }
                sum /= cols;
            }
            case CROSS_ENTROPY -> {
                // log softmax from z directly: exact where a has underflowed to 0
                double max = Double.NEGATIVE_INFINITY;
                for (int i = off; i < end; i++) {
                    max = Math.max(max, z[i]);
                }
                double s = 0;
                for (int i = off; i < end; i++) {
                    s += Math.exp(z[i] - max);
                }
                double logSum = max + Math.log(s);
                for (int i = off; i < end; i++) {
                    float t = target[i];
                    if (t != 0f) {
                        sum -= t * (z[i] - logSum);
                    }
                }
            }
        }
        return sum;
    }
}
