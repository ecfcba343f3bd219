package bp.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EpochStatsTest {

    @Test
    void printsLikeTheCommandLineAndLeavesOutWhatIsNotThere() {
        EpochStats classification = new EpochStats(3, 0.14881, 0.95341, Double.NaN, Double.NaN, 0.10928, 0.974930,
                0.2019, 7121.26);
        assertEquals("epoch 3  train loss 0.1488 acc 95.34%  test loss 0.1093 acc 97.49%  0.20 s  7121 samples/s",
                classification.toString());
        EpochStats regression = new EpochStats(1, 2.5, Double.NaN, 2.25, Double.NaN, Double.NaN, Double.NaN, 1.5, 40);
        assertEquals("epoch 1  train loss 2.5000  validation loss 2.2500  1.50 s  40 samples/s", regression.toString());
    }
}
