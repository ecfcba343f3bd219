package bp.engine;

import bp.kernel.Kernels;
import bp.nn.Loss;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LossGradientTest {

    /**
     * A confident softmax row: the probabilities far below every float's precision give output
     * gradients of exactly 0 (their products would be subnormal through the backward pass), the
     * others a − t to the bit, and the loss is unchanged.
     */
    @Test
    void outputGradientsBelowTheFloorAreZero() {
        int cols = 4;
        float floor = LossGradient.DELTA_FLOOR;
        float[] a = {1f - 3e-30f, 1e-39f, 1.5e-38f, Math.nextUp(floor)};
        float[] target = {1f, 0f, 0f, 0f};
        float[] z = {90f, 0f, 2f, 21f};
        float[] delta = new float[cols];
        double[] rowLoss = new double[1];
        LossGradient.outputDelta(Loss.CROSS_ENTROPY, Kernels.get(), z, a, target, delta, 0, 0, 1, cols, rowLoss);
        assertArrayEquals(new float[] {a[0] - 1f, 0f, 0f, Math.nextUp(floor)}, delta);
        double max = 90;
        double sum = Math.exp(0 - max) + Math.exp(2 - max) + Math.exp(21 - max) + 1;
        assertEquals(Math.log(sum), rowLoss[0], 1e-15);
    }

    /** The floor applies to every loss, after its own scaling (MSE: 2/n · (a − t)). */
    @Test
    void theFloorAppliesAfterTheLossesScaling() {
        float[] a = {0.25f, 1e-30f};
        float[] target = {0f, 0f};
        float[] delta = new float[2];
        LossGradient.outputDelta(Loss.MSE, Kernels.get(), a, a, target, delta, 0, 0, 1, 2, new double[1]);
        assertArrayEquals(new float[] {0.25f, 1e-30f}, delta); // 2/2 · (a − t): 1e-30 is above the floor
        float[] b = {0.25f, 1e-31f};
        LossGradient.outputDelta(Loss.MSE, Kernels.get(), b, b, target, delta, 0, 0, 1, 2, new double[1]);
        assertArrayEquals(new float[] {0.25f, 0f}, delta);
    }
}
