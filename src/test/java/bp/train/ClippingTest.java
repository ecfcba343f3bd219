package bp.train;

import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClippingTest {

    static Network unit() {
        return Network.builder(3).dense(2, Activation.IDENTITY).loss(Loss.MSE).seed(5).build();
    }

    /** One SGD step on one sample whose error is huge: the step is the gradient's direction, scaled to lr·clip. */
    static float[] step(double clip, int batchCopies) {
        Network net = unit();
        float[] before = net.parameters().clone();
        float[] x = new float[3 * batchCopies];
        float[] y = new float[2 * batchCopies];
        for (int r = 0; r < batchCopies; r++) {
            x[3 * r] = 1;
            x[3 * r + 1] = -2;
            x[3 * r + 2] = 0.5f;
            y[2 * r] = 100;
            y[2 * r + 1] = -50;
        }
        Trainer.Builder b = Trainer.builder().epochs(1).batchSize(batchCopies).optimizer(Optimizer.sgd(0.1));
        if (clip > 0) {
            b.clipNorm(clip);
        }
        b.build().fit(net, Dataset.regression("one", x, 3, y, 2), null);
        float[] delta = net.parameters().clone();
        for (int i = 0; i < delta.length; i++) {
            delta[i] -= before[i];
        }
        return delta;
    }

    static double norm(float[] v) {
        double s = 0;
        for (float f : v) {
            s += (double) f * f;
        }
        return Math.sqrt(s);
    }

    @Test
    void longGradientsAreScaledToTheClipNorm() {
        checkClipped(4);
        checkClipped(16); // the batch size at which the update runs in parallel blocks
    }

    static void checkClipped(int batch) {
        float[] free = step(0, batch);
        float[] clipped = step(1.5, batch);
        assertEquals(0.1 * 1.5, norm(clipped), 1e-6);
        double ratio = norm(clipped) / norm(free);
        for (int i = 0; i < free.length; i++) {
            assertEquals(free[i] * ratio, clipped[i], 1e-6, "same direction, parameter " + i);
        }
    }

    @Test
    void shortGradientsAreUntouched() {
        assertArrayEquals(step(0, 4), step(1e6, 4));
    }

    @Test
    void clipNormMustBeANumberAtLeastZero() {
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().clipNorm(-1));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().clipNorm(Double.NaN));
    }
}
