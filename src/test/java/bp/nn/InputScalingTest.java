package bp.nn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class InputScalingTest {

    // three rows of (x, constant, y)
    static final float[] ROWS = {1, 5, -2, 3, 5, 0, 5, 5, 8};

    @Test
    void standardUsesMeanAndStandardDeviation() {
        InputScaling s = InputScaling.fit("standard", ROWS, 3, 3);
        assertArrayEquals(new float[] {3, 5, 2}, s.offset());
        // population standard deviations: sqrt(8/3) and sqrt(56/3); a constant feature divides by 1
        assertArrayEquals(new float[] {(float) Math.sqrt(8.0 / 3), 1, (float) Math.sqrt(56.0 / 3)}, s.divisor());
        float[] scaled = s.apply(ROWS, 3);
        assertEquals((1 - 3) / (float) Math.sqrt(8.0 / 3), scaled[0]);
        assertEquals(0f, scaled[1]);
    }

    @Test
    void minmaxMapsTheTrainingRangeToZeroOne() {
        InputScaling s = InputScaling.fit("minmax", ROWS, 3, 3);
        assertArrayEquals(new float[] {1, 5, -2}, s.offset());
        assertArrayEquals(new float[] {4, 1, 10}, s.divisor());
        assertArrayEquals(new float[] {0, 0, 0, 0.5f, 0, 0.2f, 1, 0, 1}, s.apply(ROWS, 3));
    }

    @Test
    void predictScalesTheFeaturesItIsGiven() {
        Network net = Network.builder(3).dense(2, Activation.SOFTMAX).seed(4).build();
        float[] plain = net.predict(InputScaling.fit("standard", ROWS, 3, 3).apply(ROWS, 3), 3);
        net.setInputScaling(InputScaling.fit("standard", ROWS, 3, 3));
        assertArrayEquals(plain, net.predict(ROWS, 3));
        assertEquals(net.inputScaling(), net.copy().inputScaling());
        assertThrows(IllegalArgumentException.class, () -> InputScaling.fit("robust", ROWS, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> new InputScaling("affine", new float[] {0}, new float[] {0}));
        assertThrows(IllegalArgumentException.class,
                () -> net.setInputScaling(new InputScaling("affine", new float[2], new float[] {1, 1})));
    }
}
