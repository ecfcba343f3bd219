package bp.nn;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class TransposedWeightsTest {

    static Network net() {
        return Network.builder(37).dense(45, Activation.TANH).dense(19, Activation.RELU)
                .dense(5, Activation.SOFTMAX).loss(Loss.CROSS_ENTROPY).seed(4).build();
    }

    static float[] inputs(int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(9);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble(-1, 1);
        }
        return x;
    }

    @Test
    void aRowsPredictionDoesNotDependOnTheOtherRows() {
        Network net = net();
        int rows = 301;
        float[] x = inputs(rows, 37);
        float[] all = net.predict(x, rows);
        for (int r : new int[] {0, 1, 7, 150, 256, 300}) {
            float[] one = net.predict(Arrays.copyOfRange(x, r * 37, (r + 1) * 37));
            assertArrayEquals(Arrays.copyOfRange(all, r * 5, (r + 1) * 5), one, "row " + r);
        }
    }

    @Test
    void transposedForwardAgreesWithDotProductForward() {
        Network net = net();
        int rows = 23;
        Workspace dot = new Workspace(net, rows);
        Workspace transposed = new Workspace(net, rows);
        float[] x = inputs(rows, 37);
        System.arraycopy(x, 0, dot.input(), 0, x.length);
        System.arraycopy(x, 0, transposed.input(), 0, x.length);
        dot.forward(net, rows);
        transposed.forward(net, new TransposedWeights(net), rows);
        for (int i = 0; i < rows * 5; i++) {
            assertEquals(dot.output()[i], transposed.output()[i], 1e-6);
        }
    }

    @Test
    void predictionsFollowParameterChanges() {
        Network net = net();
        float[] x = inputs(1, 37);
        float[] before = net.predict(x);
        net.parameters()[net.weightOffset(2)] += 1f;
        net.parametersChanged();
        float[] after = net.predict(x);
        assertNotEquals(before[0], after[0]);
        Network copy = net.copy();
        assertArrayEquals(after, copy.predict(x));
    }
}
