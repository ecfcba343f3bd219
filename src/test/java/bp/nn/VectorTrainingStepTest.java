package bp.nn;

import bp.engine.Workspace;
import bp.kernel.Kernels;
import bp.kernel.ScalarKernels;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full forward/backward step of a 784-64-32-10 ReLU/softmax network on a shard of 37 samples with
 * the selected (vector) kernels agrees with the same step on the scalar kernels: every gradient
 * component within the float32 error measure of {@link GradientCheck} below 1e-4.
 */
class VectorTrainingStepTest {

    @Test
    void vectorStepMatchesScalarStep() {
        Network net = Network.builder(784).dense(64, Activation.RELU).dense(32, Activation.TANH)
                .dense(10, Activation.SOFTMAX).seed(5).build();
        int rows = 37;
        SplittableRandom rng = new SplittableRandom(8);
        Workspace ws = new Workspace(net, rows);
        for (int i = 0; i < rows * 784; i++) {
            ws.input()[ws.offset() + i] = (float) rng.nextDouble();
        }
        for (int r = 0; r < rows; r++) {
            ws.target()[ws.offset() + r * 10 + rng.nextInt(10)] = 1f;
        }
        float[] vector = new float[net.parameterCount()];
        ws.forward(net, rows);
        double vectorLoss = ws.backward(net, rows, vector);

        Network scalarNet = new Network(net, ScalarKernels.INSTANCE);
        Workspace ss = new Workspace(scalarNet, rows);
        System.arraycopy(ws.input(), ws.offset(), ss.input(), ss.offset(), rows * 784);
        System.arraycopy(ws.target(), ws.offset(), ss.target(), ss.offset(), rows * 10);
        float[] scalar = new float[net.parameterCount()];
        ss.forward(scalarNet, rows);
        double scalarLoss = ss.backward(scalarNet, rows, scalar);

        System.out.println("VectorTrainingStepTest with " + Kernels.get().description());
        assertTrue(Math.abs(vectorLoss - scalarLoss) < 1e-5 * Math.abs(scalarLoss), vectorLoss + " vs " + scalarLoss);
        double err = GradientCheck.maxError(widen(vector), widen(scalar));
        assertTrue(err < 1e-4, "vector vs scalar gradient error " + err);
    }

    static double[] widen(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
