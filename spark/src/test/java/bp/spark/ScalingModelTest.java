package bp.spark;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The all-reduce's scaling model, against sums done by hand. */
class ScalingModelTest {

    /** 100 000 samples/s locally, 40 000 by the all-reduce at batch 100: 1.5 ms a step beyond computing. */
    private final ScalingModel model = new ScalingModel(100_000, 40_000, 100, 2_500_000);

    @Test
    void twoMachinesSendEachOtherWholeGradientsInOneMessage() {
        assertEquals(1.5e-3 + 100e-6 + 2e-3, model.overhead(2), 1e-9);
    }

    @Test
    void moreMachinesReduceScatterAndAllGather() {
        assertEquals(1.5e-3 + 6 * 100e-6 + 1.5 * 2e-3, model.overhead(4), 1e-9);
    }

    @Test
    void theBatchForSeventyPercentComputesSeventyPercentOfTheStep() {
        for (int n : new int[] {2, 8, 64}) {
            long b = model.batchFor(n);
            assertTrue(model.efficiency(n, (int) b) >= 0.7 && model.efficiency(n, (int) b - 1) < 0.7, "n = " + n);
        }
    }
}
