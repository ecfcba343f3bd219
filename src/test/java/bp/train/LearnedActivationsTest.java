package bp.train;

import bp.data.DataSources;
import bp.io.ModelFile;
import bp.nn.Activation;
import bp.nn.GradientCheck;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PReLU (a learned slope per unit) and maxout (k linear pieces per unit): the activations with parameters of their own. */
class LearnedActivationsTest {

    /** A 3-input network whose first layer is {@code activation} on 2 units, then an identity output of 1. */
    private static Network small(String activation) {
        return Network.builder(3).dense(2, LayerActivation.parse(activation)).dense(1, Activation.IDENTITY)
                .loss(Loss.MSE).seed(5).build();
    }

    @Test
    void maxoutIsTheLargestPieceWithPiecesStoredUnitsApart() {
        Network net = small("maxout:3");
        assertEquals(6, net.weightRows(0), "2 units × 3 pieces");
        assertEquals(List.of(6, 3), net.tensors(0).get(0).shape());
        assertEquals(6 * 3 + 6 + 2 + 1, net.parameterCount());
        float[] p = net.parameters();
        java.util.Arrays.fill(p, 0f);
        // row p·units + j is piece p of unit j; each piece reads one input
        float[][] rows = {{1, 0, 0}, {0, 0, -1}, {0, 1, 0}, {0, 0, 1}, {0, 0, 2}, {-1, 0, 0}};
        for (int r = 0; r < 6; r++) {
            System.arraycopy(rows[r], 0, p, net.weightOffset(0) + 3 * r, 3);
        }
        p[net.weightOffset(1)] = 1f;  // output = unit 0
        net.parametersChanged();
        // unit 0 = max(x0, x1, 2·x2); unit 1 = max(-x2, x2, -x0)
        assertEquals(5f, net.predict(new float[] {5, 1, 2})[0]);
        assertEquals(4f, net.predict(new float[] {-3, 1, 2})[0]);
        assertEquals(7f, net.predict(new float[] {-3, 7, 2})[0]);
        p[net.weightOffset(1)] = 0f;
        p[net.weightOffset(1) + 1] = 1f; // output = unit 1
        net.parametersChanged();
        assertEquals(3f, net.predict(new float[] {-3, 1, 2})[0]);
        assertEquals(4f, net.predict(new float[] {-1, 1, -4})[0]);
    }

    @Test
    void preluSlopesStartAtAlphaAndActPerUnit() {
        Network net = small("prelu:0.1");
        int s = net.slopeOffset(0);
        assertEquals(0.1f, net.parameters()[s]);
        assertEquals(0.1f, net.parameters()[s + 1]);
        assertEquals(List.of("weight", "bias", "slope"), net.tensors(0).stream().map(Network.Tensor::name).toList());
        assertEquals(0.25f, small("prelu").parameters()[small("prelu").slopeOffset(0)], "PyTorch's default");
        float[] p = net.parameters();
        java.util.Arrays.fill(p, 0f);
        p[net.weightOffset(0)] = 1f;        // unit 0 = x0
        p[net.weightOffset(0) + 4] = 1f;    // unit 1 = x1
        p[s] = 0.5f;
        p[s + 1] = -2f;                     // a learned slope may be negative
        p[net.weightOffset(1)] = 1f;
        p[net.weightOffset(1) + 1] = 10f;
        net.parametersChanged();
        assertEquals(-1f + 10 * 6f, net.predict(new float[] {-2, -3, 9})[0]);
        assertEquals(2f + 10 * 3f, net.predict(new float[] {2, 3, 9})[0]);
        assertThrows(IllegalArgumentException.class, () -> net.slopeOffset(1));
    }

    /**
     * The gradient check of every loss on two hidden layers of each, PReLU with random slopes of
     * both signs (the default would give every unit the same one) and maxout with 3 pieces.
     */
    @Test
    void gradientsAgreeWithFiniteDifferences() {
        for (String hidden : new String[] {"prelu", "prelu:-0.3", "maxout", "maxout:3"}) {
            for (Loss loss : Loss.values()) {
                Activation output = loss == Loss.CROSS_ENTROPY ? Activation.SOFTMAX
                        : loss == Loss.BINARY_CROSS_ENTROPY ? Activation.SIGMOID : Activation.IDENTITY;
                Network net = Network.builder(5).dense(7, LayerActivation.parse(hidden))
                        .dense(6, LayerActivation.parse(hidden)).dense(4, output).loss(loss).seed(8).build();
                randomizeSlopes(net, new SplittableRandom(3));
                GradientCheck.Result r = GradientCheck.run(net, 4, 17);
                String name = hidden + " " + loss.label();
                assertTrue(r.referenceVsFiniteDifferences() < 1e-6, name + ": " + r);
                assertTrue(r.engineVsReference() < 1e-4, name + ": " + r);
            }
        }
        for (String out : new String[] {"prelu", "maxout:3"}) {
            Network net = Network.builder(4).dense(5, Activation.TANH).dense(3, LayerActivation.parse(out))
                    .loss(Loss.SSE).seed(2).build();
            randomizeSlopes(net, new SplittableRandom(4));
            GradientCheck.Result r = GradientCheck.run(net, 4, 5);
            assertTrue(r.referenceVsFiniteDifferences() < 1e-6 && r.engineVsReference() < 1e-4, out + " output: " + r);
        }
    }

    private static void randomizeSlopes(Network net, SplittableRandom rng) {
        for (int l = 0; l < net.layerCount(); l++) {
            if (net.hasSlopes(l)) {
                for (int j = 0; j < net.size(l + 1); j++) {
                    net.parameters()[net.slopeOffset(l) + j] = (float) rng.nextDouble(-0.5, 0.8);
                }
            }
        }
        net.parametersChanged();
    }

    /** Both learn the 8×8 digits to the accuracy of ReLU (≥ 95 % in 10 epochs); PReLU's slopes move apart. */
    @Test
    void learnDigits() {
        DataSources.TrainTest d = DataSources.digits();
        for (String hidden : new String[] {"prelu", "maxout:3"}) {
            Network net = Network.builder(64).dense(128, LayerActivation.parse(hidden)).dense(10, Activation.SOFTMAX)
                    .seed(1).build();
            List<EpochStats> h = Trainer.builder().epochs(10).batchSize(32).optimizer(Optimizer.sgd(0.1)).seed(2)
                    .build().fit(net, d.train(), d.test());
            double accuracy = h.get(h.size() - 1).testAccuracy();
            assertTrue(accuracy >= 0.95, hidden + ": digits test accuracy " + accuracy);
            if (net.hasSlopes(0)) {
                float[] p = net.parameters();
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < 128; j++) {
                    min = Math.min(min, p[net.slopeOffset(0) + j]);
                    max = Math.max(max, p[net.slopeOffset(0) + j]);
                }
                assertTrue(max - min > 0.01, "the slopes were not learned: " + min + ".." + max);
            }
        }
    }

    /** The thread count does not change a single bit, as for the other activations. */
    @Test
    void trainingIsIndependentOfThreads(@TempDir Path dir) throws Exception {
        DataSources.TrainTest d = DataSources.digits();
        for (String hidden : new String[] {"prelu", "maxout:3", "prelu/folded", "maxout:3/folded"}) {
            byte[] first = null;
            boolean folded = hidden.endsWith("/folded"); // one shard, no clipping: the update folded into the backward pass
            for (int threads = 1; threads <= 3; threads++) {
                Network net = Network.builder(64).dense(80, LayerActivation.parse(hidden.replace("/folded", "")))
                        .dense(40, LayerActivation.parse(hidden.replace("/folded", ""))).dense(10, Activation.SOFTMAX)
                        .seed(9).build();
                Trainer.Builder b = Trainer.builder().epochs(1).batchSize(128).optimizer(Optimizer.adam(0.001)).seed(9)
                        .threads(threads);
                if (!folded) {
                    b.shardSize(32).clipNorm(1);
                }
                b.build().fit(net, d.train(), null);
                Path file = dir.resolve(hidden.replace('/', '-') + threads + ".safetensors");
                ModelFile.save(net, file, Map.of());
                byte[] bytes = Files.readAllBytes(file);
                if (first == null) {
                    first = bytes;
                } else {
                    assertArrayEquals(first, bytes, hidden + ": " + threads + " threads differ from 1");
                }
            }
        }
    }

    /** L2 shrinks the weights only: a zero gradient leaves biases and PReLU slopes where they were. */
    @Test
    void l2LeavesSlopesAlone() {
        Network net = small("prelu:0.3");
        float[] before = net.parameters().clone();
        Optimizer.State state = Optimizer.sgd(0.1).withL2(0.5).newState(net.parameterCount());
        state.step(net, new float[net.parameterCount()], 1, 0.1, true);
        float[] p = net.parameters();
        assertNotEquals(before[net.weightOffset(0)], p[net.weightOffset(0)]);
        for (int j = 0; j < 2; j++) {
            assertEquals(before[net.slopeOffset(0) + j], p[net.slopeOffset(0) + j]);
            assertEquals(before[net.biasOffset(0) + j], p[net.biasOffset(0) + j]);
        }
    }

    /** The file names each tensor like PyTorch's modules do and reloads to the same bits. */
    @Test
    void modelFileRoundTrip(@TempDir Path dir) {
        Network net = Network.builder(3).dense(4, LayerActivation.parse("prelu:0.2"))
                .dense(5, LayerActivation.parse("maxout:4")).dense(2, Activation.SOFTMAX).seed(3).build();
        randomizeSlopes(net, new SplittableRandom(1));
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(net, file, Map.of());
        Network loaded = ModelFile.load(file);
        assertEquals(net.describe(), loaded.describe());
        assertTrue(net.describe().contains("4:prelu:0.2-5:maxout:4"), net.describe());
        assertArrayEquals(net.parameters(), loaded.parameters());
        float[] x = {0.3f, -1.2f, 0.7f, -0.1f, 2f, -3f};
        assertArrayEquals(net.predict(x, 2), loaded.predict(x, 2));
        assertEquals(List.of(20, 4), loaded.tensors(1).get(0).shape());
    }
}
