package bp.nn;

import bp.engine.Workspace;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The values of the losses on one known case, computed by hand (PyTorch's definitions). */
class LossTest {

    /** An identity output layer with weights 0 and biases {0.5, -1}: the output is the bias for any input. */
    static Network constant(Activation output, Loss loss) {
        return Network.of(new int[] {1, 2}, java.util.List.of(output), loss, new float[] {0, 0, 0.5f, -1f});
    }

    static double lossOf(Network net, float[] target) {
        Workspace ws = new Workspace(net, 1);
        ws.input()[ws.offset()] = 1;
        System.arraycopy(target, 0, ws.target(), ws.offset(), target.length);
        ws.forward(net, 1);
        return ws.loss(net, 1);
    }

    @Test
    void meanAbsoluteError() {
        // |0.5 − 1| and |−1 − 0| averaged over the 2 outputs: (0.5 + 1) / 2
        assertEquals(0.75, lossOf(constant(Activation.IDENTITY, Loss.MAE), new float[] {1, 0}), 1e-7);
    }

    @Test
    void sigmoidBinaryCrossEntropy() {
        // z = (0.5, −1), t = (1, 0): (−log σ(0.5) − log(1 − σ(−1))) / 2
        double expected = (-Math.log(1 / (1 + Math.exp(-0.5))) - Math.log(1 - 1 / (1 + Math.exp(1)))) / 2;
        assertEquals(expected, lossOf(constant(Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY), new float[] {1, 0}),
                1e-7);
    }

    @Test
    void binaryCrossEntropyNeedsASigmoidOutput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Network.builder(2).dense(1, Activation.IDENTITY).loss(Loss.BINARY_CROSS_ENTROPY).build());
        assertTrue(e.getMessage().contains("sigmoid"), e.getMessage());
    }
}
