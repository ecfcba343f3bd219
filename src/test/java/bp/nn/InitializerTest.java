package bp.nn;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitializerTest {

    static final int IN = 400;
    static final int OUT = 300;

    /** Fills a 300×400 layer and checks the weights' mean, variance and range, and the biases. */
    static void check(Initializer init, double variance, double bound, boolean zeroBiases) {
        float[] p = new float[IN * OUT + OUT];
        init.fill(p, 0, IN * OUT, IN, OUT, new SplittableRandom(1));
        double sum = 0;
        double squares = 0;
        for (int i = 0; i < IN * OUT; i++) {
            sum += p[i];
            squares += (double) p[i] * p[i];
            assertTrue(Math.abs(p[i]) <= bound, init + ": weight " + p[i] + " outside ±" + bound);
        }
        double n = IN * OUT;
        assertEquals(0, sum / n, 4 * Math.sqrt(variance / n), init + " mean");
        assertEquals(variance, squares / n, 0.02 * variance, init + " variance");
        for (int i = 0; i < OUT; i++) {
            if (zeroBiases) {
                assertEquals(0f, p[IN * OUT + i], init + " bias");
            }
        }
    }

    @Test
    void eachInitialiserHasItsVariance() {
        double pytorch = 1.0 / IN;
        check(Initializer.PYTORCH_DEFAULT, pytorch / 3, Math.sqrt(pytorch), false);
        double glorot = 2.0 / (IN + OUT);
        check(Initializer.XAVIER_UNIFORM, glorot, Math.sqrt(3 * glorot), true);
        check(Initializer.XAVIER_NORMAL, glorot, Double.MAX_VALUE, true);
        check(Initializer.HE_NORMAL, 2.0 / IN, Double.MAX_VALUE, true);
        check(Initializer.normal(0.05), 0.0025, Double.MAX_VALUE, true);
    }

    @Test
    void parsesNamesAndRejectsOthers() {
        assertSame(Initializer.XAVIER_UNIFORM, Initializer.parse("xavier"));
        assertSame(Initializer.XAVIER_NORMAL, Initializer.parse("Xavier_Normal"));
        assertSame(Initializer.HE_NORMAL, Initializer.parse("he"));
        assertEquals(Initializer.normal(0.1), Initializer.parse("normal:0.1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Initializer.parse("lecun"));
        assertTrue(e.getMessage().contains("xavier"), e.getMessage());
    }

    @Test
    void biasesCanStartAtAConstantWithoutChangingTheWeights() {
        Network plain = Network.builder(5).dense(4, Activation.TANH).dense(2, Activation.SOFTMAX).seed(9).build();
        Network shifted = Network.builder(5).dense(4, Activation.TANH).dense(2, Activation.SOFTMAX).seed(9)
                .biases(0.25f).build();
        for (int l = 0; l < 2; l++) {
            for (int o = 0; o < plain.size(l + 1); o++) {
                assertEquals(0.25f, shifted.bias(l, o));
                for (int i = 0; i < plain.size(l); i++) {
                    assertEquals(plain.weight(l, o, i), shifted.weight(l, o, i));
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Network.builder(1).biases(Float.NaN));
    }
}
