package bp.nn;

import bp.engine.Workspace;
import java.util.SplittableRandom;

/**
 * Checks a network's gradients three ways: the double-precision {@link Reference} against central
 * finite differences, and the float32 engine against the reference.
 *
 * <p>The error of a component is {@code |a − b| / max(|a|, |b|, 1e-3·max_i|b_i|)}: relative, but a
 * component a thousand times smaller than the largest one is compared at that scale, where float32
 * rounding of the others dominates.
 */
public final class GradientCheck {

    /**
     * The worst component errors found.
     *
     * @param referenceVsFiniteDifferences the worst error of the double-precision backward pass against central differences
     * @param engineVsReference the worst error of the float32 engine against the double-precision backward pass
     * @param parameters the number of parameters checked
     */
    public record Result(double referenceVsFiniteDifferences, double engineVsReference, int parameters) {
    }

    private GradientCheck() {
    }

    /**
     * Checks {@code net} on {@code rows} random inputs in [-1, 1] and random targets that suit its loss.
     *
     * @param net the network, with its parameters
     * @param rows how many random rows
     * @param seed the seed of the rows
     * @return the worst errors
     */
    public static Result run(Network net, int rows, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] x = new double[rows * net.inputs()];
        double[] t = new double[rows * net.outputs()];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextDouble(-1, 1);
        }
        for (int r = 0; r < rows; r++) {
            if (net.loss() == Loss.CROSS_ENTROPY) {
                t[r * net.outputs() + rng.nextInt(net.outputs())] = 1;
            } else {
                for (int j = 0; j < net.outputs(); j++) {
                    t[r * net.outputs() + j] = rng.nextDouble();
                }
            }
        }
        return run(net, x, t, rows);
    }

    /**
     * Checks {@code net} on the given inputs and targets (row by row).
     *
     * @param net the network, with its parameters
     * @param x the inputs, row by row
     * @param t the targets, row by row
     * @param rows how many rows
     * @return the worst errors
     */
    public static Result run(Network net, double[] x, double[] t, int rows) {
        Reference ref = new Reference(net);
        float[] p = net.parameters();
        double[] params = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            params[i] = p[i];
        }
        double[] analytic = ref.gradient(params, x, t, rows);
        double[] numeric = ref.finiteDifferences(params, x, t, rows, 1e-4);
        double[] engine = engineGradient(net, x, t, rows);
        return new Result(maxError(analytic, numeric), maxError(engine, analytic), p.length);
    }

    /**
     * The float32 engine's mean gradient over the rows, widened to double.
     *
     * @param net the network, with its parameters
     * @param x the inputs, row by row
     * @param t the targets, row by row
     * @param rows how many rows
     * @return the gradient, one value per parameter
     */
    public static double[] engineGradient(Network net, double[] x, double[] t, int rows) {
        Workspace ws = new Workspace(net, rows);
        for (int i = 0; i < x.length; i++) {
            ws.input()[ws.offset() + i] = (float) x[i];
        }
        for (int i = 0; i < t.length; i++) {
            ws.target()[ws.offset() + i] = (float) t[i];
        }
        float[] grad = new float[net.parameterCount()];
        ws.forward(net, rows);
        ws.backward(net, rows, grad);
        double[] out = new double[grad.length];
        for (int i = 0; i < grad.length; i++) {
            out[i] = grad[i] / (double) rows;
        }
        return out;
    }

    /**
     * The largest component error of {@code a} against {@code b}, as defined in the class comment.
     * Components where {@code b} is NaN (finite differences across a kink) are left out; a NaN in
     * {@code a} makes the result NaN.
     *
     * @param a the gradient checked
     * @param b the gradient it is checked against
     * @return the largest error
     */
    public static double maxError(double[] a, double[] b) {
        double scale = 0;
        for (double v : b) {
            if (!Double.isNaN(v)) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        double floor = Math.max(1e-3 * scale, 1e-12);
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(b[i])) {
                continue;
            }
            if (Double.isNaN(a[i])) {
                return Double.NaN;
            }
            double denom = Math.max(Math.max(Math.abs(a[i]), Math.abs(b[i])), floor);
            worst = Math.max(worst, Math.abs(a[i] - b[i]) / denom);
        }
        return worst;
    }
}
