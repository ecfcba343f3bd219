package bp.engine;

import bp.nn.Activation;
import bp.nn.LayerActivation;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkspaceTest {

    /**
     * A layer's input gradient is a sum over chunks of its units: of 128 units up to 1024 units,
     * wider chunks beyond, so that no layer is summed over more than eight (a pass over the rows'
     * input gradient and a buffer of it each). Only chunks of 128 units, above a layer of one value
     * at a time, are computed by the owners of the units' weights.
     */
    @Test
    void wideLayersTakeWiderChunksAndAtMostEight() {
        int[][] unitsChunkCount = {{10, 128, 1}, {128, 128, 1}, {129, 128, 2}, {256, 128, 2}, {1024, 128, 8},
            {1025, 256, 5}, {2048, 256, 8}, {4096, 512, 8}, {4097, 640, 7}};
        for (int[] c : unitsChunkCount) {
            Network net = Network.builder(3).dense(5, Activation.RELU).dense(c[0], Activation.RELU)
                    .dense(2, Activation.SOFTMAX).seed(1).build();
            assertEquals(c[1], Workspace.inputGradientChunkUnits(net, 1), c[0] + " units");
            assertEquals(c[2], Workspace.inputGradientChunks(net, 1), c[0] + " units");
            assertEquals(c[2] > 1 && c[1] == Workspace.INPUT_GRADIENT_CHUNK, Workspace.inputGradientByChunks(net, 1),
                    c[0] + " units");
        }
        Network abovePrelu = Network.builder(3).dense(5, LayerActivation.parse("prelu")).dense(256, Activation.RELU)
                .dense(2, Activation.SOFTMAX).seed(1).build();
        assertFalse(Workspace.inputGradientByChunks(abovePrelu, 1), "above a PReLU layer");
        Network aboveTanh = Network.builder(3).dense(5, Activation.TANH).dense(256, Activation.RELU)
                .dense(2, Activation.SOFTMAX).seed(1).build();
        assertTrue(Workspace.inputGradientByChunks(aboveTanh, 1), "above a tanh layer");
    }
}
