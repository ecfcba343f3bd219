package bp.engine;

import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * A row's outputs are the same bits alone or among others, however the call is shared out:
     * one to seven rows by blocks of each wide layer's units (every core on each layer), from eight
     * rows an equal share of the rows per core (at least four), each share by blocks of at most 256
     * rows (601 rows on two cores: 256 + 44 and 256 + 45). The wide network has layers wider than a
     * block with tails (300 = 4 panels of 64 + 44 units on AVX-512) and activations computed by
     * polynomials (tanh, sigmoid), where a value moved between a vector and a scalar tail would change.
     * The blocked network's layers of whole vectors are read from weights in blocks of units by a
     * prediction's blocks of 64 rows where the kernels prefer that (AVX-512), a row alone from the
     * packed weights.
     */
    @Test
    void aRowsPredictionDoesNotDependOnTheOtherRows() {
        Network wide = Network.builder(37).dense(300, Activation.TANH).dense(200, Activation.SIGMOID)
                .dense(130, Activation.ELU).dense(5, Activation.SOFTMAX).loss(Loss.CROSS_ENTROPY).seed(4).build();
        Network blocked = Network.builder(37).dense(256, Activation.RELU).dense(96, Activation.TANH)
                .dense(5, Activation.SOFTMAX).loss(Loss.CROSS_ENTROPY).seed(4).build();
        for (Network net : new Network[] {net(), wide, blocked}) {
            int rows = 601;
            float[] x = inputs(rows, 37);
            float[][] alone = new float[rows][];
            for (int r = 0; r < rows; r++) {
                Workspace ws = new Workspace(net, 1); // the one-thread pass
                System.arraycopy(x, r * 37, ws.input(), ws.offset(), 37);
                ws.forward(net, NetworkInternals.transposedWeights(net), 1);
                alone[r] = Arrays.copyOfRange(ws.output(), ws.offset(), ws.offset() + 5);
            }
            for (int r : new int[] {0, 1, 7, 150, 256, 299, 300, 301, 556, 557, 600}) {
                assertArrayEquals(alone[r], net.predict(Arrays.copyOfRange(x, r * 37, (r + 1) * 37)), "row " + r);
            }
            for (int n : new int[] {2, 3, 7, 8, 9, 15, 64, 129, 257, 601}) {
                int from = rows - n; // rows that are not the first of any block of the whole
                float[] some = net.predict(Arrays.copyOfRange(x, from * 37, rows * 37), n);
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(alone[from + r], Arrays.copyOfRange(some, r * 5, (r + 1) * 5),
                            "row " + r + " of " + n);
                }
            }
        }
    }

    /** No rows give no outputs (the per-call workspace of zero rows was refused before f15dc55); a wrong length is named. */
    @Test
    void predictionOfNoRowsIsEmptyAndAWrongLengthIsRefused() {
        Network net = net();
        assertEquals(0, net.predict(new float[0], 0).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.predict(new float[36], 1));
        assertTrue(e.getMessage().contains("expected 1 × 37 inputs, got 36"), e.getMessage());
    }

    @Test
    void transposedForwardAgreesWithDotProductForward() {
        Network net = net();
        int rows = 23;
        Workspace dot = new Workspace(net, rows);
        Workspace transposed = new Workspace(net, rows);
        float[] x = inputs(rows, 37);
        System.arraycopy(x, 0, dot.input(), dot.offset(), x.length);
        System.arraycopy(x, 0, transposed.input(), transposed.offset(), x.length);
        dot.forward(net, rows);
        transposed.forward(net, new TransposedWeights(net), rows);
        for (int i = dot.offset(); i < dot.offset() + rows * 5; i++) {
            assertEquals(dot.output()[i], transposed.output()[i], 1e-6);
        }
    }

    /**
     * Training with batches of a few rows reads the first layer's weights in place where the
     * kernels prefer that (the copy then leaves the layer out, and the update does not re-pack it):
     * the forward pass gives the packed copy's bits, whole and by blocks of units sharing a copy of
     * the input, as the trainer's threads compute it. 320 units: whole vectors at every width.
     */
    @Test
    void smallBatchesReadTheFirstLayerInPlaceWithThePackedBits() {
        Network net = Network.builder(37).dense(320, Activation.RELU).dense(19, Activation.TANH)
                .dense(5, Activation.SOFTMAX).loss(Loss.CROSS_ENTROPY).seed(4).build();
        bp.kernel.Kernels kernels = NetworkInternals.kernels(net);
        TransposedWeights packed = new TransposedWeights(net);
        TransposedWeights small = new TransposedWeights(net, Workspace.IN_PLACE_MAX_BATCH_ONE_THREAD, true);
        boolean prefers = kernels.forwardReadsWeightsInPlace(320);
        assertFalse(packed.readsInPlace(0));
        assertEquals(prefers, new TransposedWeights(net, Workspace.IN_PLACE_MAX_BATCH, false).readsInPlace(0));
        assertFalse(new TransposedWeights(net, Workspace.IN_PLACE_MAX_BATCH + 1, false).readsInPlace(0));
        assertFalse(new TransposedWeights(net, Workspace.IN_PLACE_MAX_BATCH_ONE_THREAD + 1, true).readsInPlace(0));
        assertEquals(prefers, small.readsInPlace(0));
        assertFalse(small.readsInPlace(1));
        for (int rows : new int[] {8, 37, Workspace.IN_PLACE_MAX_BATCH, Workspace.IN_PLACE_MAX_BATCH_ONE_THREAD}) {
            float[] x = inputs(rows, 37);
            Workspace expected = new Workspace(net, rows);
            System.arraycopy(x, 0, expected.input(), expected.offset(), x.length);
            expected.forward(net, packed, rows);
            Workspace whole = new Workspace(net, rows);
            System.arraycopy(x, 0, whole.input(), whole.offset(), x.length);
            whole.forward(net, small, rows);
            assertArrayEquals(expected.output(), whole.output(), rows + " rows");
            Workspace blocks = new Workspace(net, rows);
            System.arraycopy(x, 0, blocks.input(), blocks.offset(), x.length);
            long token = bp.kernel.Kernels.newToken();
            for (int j0 = 0; j0 < 320; j0 += kernels.panelWidth()) {
                blocks.forwardColumns(net, small, 0, j0, Math.min(320, j0 + kernels.panelWidth()), rows, token);
            }
            for (int l = 1; l < net.layerCount(); l++) {
                blocks.forwardLayer(net, small, l, 0, rows);
            }
            assertArrayEquals(expected.output(), blocks.output(), rows + " rows by blocks of units");
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
