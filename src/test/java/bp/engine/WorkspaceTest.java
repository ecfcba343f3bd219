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

    /**
     * A layer shared out by units goes in tasks of whole packed panels (the forward pass's blocks
     * must start on one), at most the given width, covering every unit once; on several threads
     * each thread's share ends in tasks of one panel, so the thread that finishes first takes
     * over short ones; on one thread, tasks of the most units.
     */
    @Test
    void unitTasksAreWholePanelsAndEndEachShareShort() {
        for (int units : new int[] {10, 37, 100, 256, 512, 1000}) {
            Network net = Network.builder(3).dense(units, Activation.RELU).dense(2, Activation.SOFTMAX).seed(1).build();
            int panel = NetworkInternals.kernels(net).panelWidth();
            for (int threads = 1; threads <= 3; threads++) {
                int[] b = Workspace.unitTasks(net, 0, threads, 64);
                String what = units + " units, " + threads + " threads: " + java.util.Arrays.toString(b);
                assertEquals(0, b[0], what);
                assertEquals(units, b[b.length - 1], what);
                int most = Math.max(panel, 64 / panel * panel);
                for (int i = 1; i < b.length; i++) {
                    assertTrue(b[i] > b[i - 1] && b[i] - b[i - 1] <= most, what);
                    assertTrue(b[i] % panel == 0 || b[i] == units, what);
                }
                int panels = (units + panel - 1) / panel;
                if (threads == 1) {
                    assertEquals((panels + most / panel - 1) / (most / panel) + 1, b.length, what);
                } else if (panels >= 4 * threads) {
                    // each share's last two tasks are one panel: at the middle of the layer and at its end
                    int middle = Math.min(units, (int) ((long) panels / threads) * panel);
                    int at = java.util.Arrays.binarySearch(b, middle);
                    assertTrue(at > 1 && b[at] - b[at - 1] == panel && b[at - 1] - b[at - 2] == panel, what);
                    assertEquals(panel, b[b.length - 2] - b[b.length - 3], what);
                }
            }
        }
    }
}
