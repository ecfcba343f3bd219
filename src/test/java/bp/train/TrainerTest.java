package bp.train;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.io.ModelFile;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    static Dataset truthTable(String name, int... outputs) {
        float[] x = {0, 0, 0, 1, 1, 0, 1, 1};
        return Dataset.classification(name, x, 2, outputs, 2);
    }

    /** AND, OR, NAND and XOR, each learned to 4/4 by a 2-4-2 tanh/softmax network with online learning. */
    @Test
    void learnsBooleanFunctions() {
        List<Dataset> functions = List.of(truthTable("AND", 0, 0, 0, 1), truthTable("OR", 0, 1, 1, 1),
                truthTable("NAND", 1, 1, 1, 0), truthTable("XOR", 0, 1, 1, 0));
        for (Dataset f : functions) {
            Network net = Network.builder(2).dense(4, Activation.TANH).dense(2, Activation.SOFTMAX).seed(3).build();
            Trainer.builder().epochs(500).batchSize(1).optimizer(Optimizer.sgd(0.1)).seed(4).threads(1).build().fit(net, f, null);
            Evaluation e = Trainer.evaluate(net, f);
            assertEquals(1.0, e.accuracy(), f.name() + " not learned: " + e);
            assertTrue(e.loss() < 0.05, f.name() + " loss " + e.loss());
        }
    }

    /**
     * 10 epochs on the 8×8 digits reach ≥ 95 % test accuracy (a chance-level or broken backward pass
     * stays near 10 %; this run reaches about 97 %).
     */
    @Test
    void learnsDigits() {
        DataSources.TrainTest d = DataSources.digits();
        Network net = Network.builder(64).dense(128, Activation.RELU).dense(10, Activation.SOFTMAX).seed(1).build();
        List<EpochStats> h = Trainer.builder().epochs(10).batchSize(32).optimizer(Optimizer.sgd(0.1)).seed(2).build()
                .fit(net, d.train(), d.test());
        EpochStats last = h.get(h.size() - 1);
        assertTrue(last.testAccuracy() >= 0.95, "digits test accuracy " + last.testAccuracy());
        assertTrue(last.trainLoss() < h.get(0).trainLoss() / 3, "loss did not fall: " + h);
        assertEquals(Trainer.evaluate(net, d.test()).accuracy(), last.testAccuracy());
    }

    /**
     * The same seed gives the same model files, byte for byte, whatever the thread count: with the
     * default shard (the batch is one shard, the update folded into the backward phases), with
     * small shards (several groups, summed in a tree, then a separate update pass), and with a
     * clipping norm that bites (the gradient's norm summed over blocks of units, whose layout must
     * not depend on the thread count).
     */
    @Test
    void resultDoesNotDependOnThreads(@TempDir Path dir) throws Exception {
        DataSources.TrainTest d = DataSources.digits();
        for (int shard : new int[] {0, 16, -1}) {
            byte[] first = null;
            for (int threads = 1; threads <= 4; threads++) {
                // 300 and 200 units: wider than a block of units, with tails, so the forward pass is shared
                // out by units on several threads and by rows on one
                Network net = Network.builder(64).dense(300, Activation.TANH).dense(200, Activation.SIGMOID)
                        .dense(10, Activation.SOFTMAX).seed(9).build();
                Trainer.Builder b = Trainer.builder().epochs(2).batchSize(100).optimizer(Optimizer.momentum(0.1, 0.9))
                        .seed(9).threads(threads);
                if (shard > 0) {
                    b.shardSize(shard);
                }
                if (shard < 0) {
                    b.clipNorm(0.05);
                }
                b.build().fit(net, d.train(), null);
                byte[] bytes = saved(net, dir.resolve("s" + shard + "t" + threads + ".safetensors"));
                if (first == null) {
                    first = bytes;
                } else {
                    assertArrayEquals(first, bytes, threads + " threads gave a different model than 1 thread, "
                            + (shard < 0 ? "clipped" : "shard " + shard));
                }
            }
        }
    }

    /**
     * One thread reads the first layer's weights in place at batches where two threads read the
     * packed copy (where the kernels prefer that: a layer of whole vectors, 320 units), and both
     * give the same model bytes, with SGD and with Adam.
     */
    @Test
    void oneThreadInPlaceAndTwoThreadsPackedGiveTheSameModel(@TempDir Path dir) throws Exception {
        DataSources.TrainTest d = DataSources.digits();
        int batch = bp.engine.Workspace.IN_PLACE_MAX_BATCH_ONE_THREAD;
        for (Optimizer optimizer : new Optimizer[] {Optimizer.sgd(0.1), Optimizer.adam(1e-3)}) {
            byte[][] models = new byte[2][];
            for (int threads = 1; threads <= 2; threads++) {
                Network net = Network.builder(64).dense(320, Activation.RELU).dense(40, Activation.TANH)
                        .dense(10, Activation.SOFTMAX).seed(5).build();
                Trainer.builder().epochs(1).batchSize(batch).optimizer(optimizer).seed(5).threads(threads).build()
                        .fit(net, d.train(), null);
                models[threads - 1] = saved(net, dir.resolve(optimizer.describe() + threads + ".safetensors"));
            }
            assertArrayEquals(models[0], models[1], optimizer.describe() + ": 2 threads gave another model than 1");
        }
    }

    /**
     * Batches of a few rows on several threads run some steps on the calling thread alone and some
     * on all threads (the first {@link Step#TRIAL_STEPS} steps take both in turns, then the faster),
     * and give the same model bytes as one thread: at batch 1 with plain SGD (the update straight
     * from the outer product) and with Adam, and at batch 3, through 300- and 200-unit layers that
     * the forward pass shares out by units as dot products.
     */
    @Test
    void fewRowsGiveTheSameModelOnAnyThreadCount(@TempDir Path dir) throws Exception {
        int[] rows = new int[2 * Step.TRIAL_STEPS + 40];
        java.util.Arrays.setAll(rows, i -> i);
        Dataset data = DataSources.digits().train().select("digits (first " + rows.length + ")", rows);
        for (int batch : new int[] {1, 3}) {
            for (Optimizer optimizer : new Optimizer[] {Optimizer.sgd(0.05), Optimizer.adam(0.001)}) {
                byte[] first = null;
                for (int threads = 1; threads <= 3; threads++) {
                    Network net = Network.builder(64).dense(300, Activation.TANH).dense(200, Activation.RELU)
                            .dense(10, Activation.SOFTMAX).seed(6).build();
                    Trainer.builder().epochs(batch).batchSize(batch).optimizer(optimizer).seed(6).threads(threads)
                            .build().fit(net, data, null);
                    byte[] bytes = saved(net, dir.resolve("b" + batch + "t" + threads + ".safetensors"));
                    if (first == null) {
                        first = bytes;
                    } else {
                        assertArrayEquals(first, bytes, threads + " threads gave a different model than 1 thread, batch "
                                + batch + ", " + optimizer);
                    }
                }
            }
        }
    }

    /**
     * Parameters a listener sets between batches (and says so) are the ones the next batch runs
     * through: the step's packed copy of the weights is refreshed. With every weight and bias set
     * to zero, each of the 32 classes gets 1/32 and each batch's loss is ln 32. Layers of 64 and 32
     * units go through the packed weights at every vector width (a 10-unit output layer would take
     * the dot products on the real, zeroed weights on AVX-512 and hide a stale copy).
     */
    @Test
    void parametersSetBetweenBatchesAreUsed() {
        SplittableRandom rng = new SplittableRandom(5);
        int rows = 640;
        float[] x = new float[rows * 20];
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < 20; j++) {
                x[r * 20 + j] = (float) rng.nextDouble(-1, 1);
            }
            labels[r] = rng.nextInt(32);
        }
        Dataset data = Dataset.classification("random", x, 20, labels, 32);
        Network net = Network.builder(20).dense(64, Activation.RELU).dense(32, Activation.SOFTMAX).seed(5).build();
        List<Double> losses = new java.util.ArrayList<>();
        Trainer.builder().epochs(1).batchSize(32).seed(5).optimizer(Optimizer.sgd(0.1)).listener(new TrainingListener() {
            @Override
            public void onBatchEnd(int epoch, int batch, int batches, double meanLoss) {
                losses.add(meanLoss);
                java.util.Arrays.fill(net.parameters(), 0f);
                net.parametersChanged();
            }
        }).build().fit(net, data, null);
        assertEquals(20, losses.size());
        for (int b = 1; b < losses.size(); b++) {
            assertEquals(Math.log(32), losses.get(b), 1e-5, "batch " + (b + 1) + " ran through the zeroed weights");
        }
    }

    /**
     * Folding the update into the backward phases changes nothing: a clipping norm that never bites
     * sends every step through the separate update pass, and the model is the same bits. At batch 1
     * with plain SGD the folded update takes each layer's gradient straight from the sample's δ and
     * input, never through the gradient buffer: the same bits too (L2 included). Layers of 150 and
     * 140 units leave tails at every vector width, take their folded update in pieces of
     * {@link Step#UPDATE_PIECE} units at batch 64, and the second goes by chunks of its units.
     */
    @Test
    void foldedUpdateGivesTheBitsOfTheSeparatePass(@TempDir Path dir) throws Exception {
        DataSources.TrainTest d = DataSources.digits();
        for (int batch : new int[] {64, 1}) {
            byte[][] models = new byte[2][];
            for (int clip = 0; clip < 2; clip++) {
                Network net = Network.builder(64).dense(150, Activation.RELU).dense(140, Activation.RELU)
                        .dense(10, Activation.SOFTMAX).seed(3).build();
                Optimizer optimizer = batch == 1 ? Optimizer.sgd(0.01).withL2(1e-3) : Optimizer.adam(1e-3);
                Trainer.Builder b = Trainer.builder().epochs(batch == 1 ? 1 : 2).batchSize(batch).optimizer(optimizer)
                        .seed(3).threads(2);
                if (clip == 1) {
                    b.clipNorm(1e30);
                }
                b.build().fit(net, d.train(), null);
                models[clip] = saved(net, dir.resolve("batch" + batch + "clip" + clip + ".safetensors"));
            }
            assertArrayEquals(models[0], models[1], "batch " + batch);
        }
    }

    private static byte[] saved(Network net, Path file) throws Exception {
        ModelFile.save(net, file, java.util.Map.of());
        return Files.readAllBytes(file);
    }

    /** Online (B = 1), mini-batch and full-batch (B ≥ N) learning all fit y = 2x + 1. */
    @Test
    void onlineMiniBatchAndFullBatchRegression() {
        int n = 64;
        float[] x = new float[n];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -1 + 2f * i / (n - 1);
            y[i] = 2 * x[i] + 1;
        }
        Dataset line = Dataset.regression("line", x, 1, y, 1);
        int[][] settings = {{1, 30}, {8, 200}, {n, 1500}, {10 * n, 1500}};
        for (int[] s : settings) {
            Network net = Network.builder(1).dense(1, Activation.IDENTITY).loss(Loss.MSE).seed(1).build();
            Trainer.builder().batchSize(s[0]).epochs(s[1]).optimizer(Optimizer.sgd(0.1)).build().fit(net, line, null);
            assertEquals(2.0, net.weight(0, 0, 0), 1e-3, "slope with batch " + s[0]);
            assertEquals(1.0, net.bias(0, 0), 1e-3, "intercept with batch " + s[0]);
        }
    }

    @Test
    void divergenceStopsWithEpochAndBatch() {
        Dataset big = Dataset.regression("big", new float[] {1e3f, -2e3f, 3e3f, 5e3f}, 1, new float[] {1, 2, 3, 4}, 1);
        Network net = Network.builder(1).dense(8, Activation.IDENTITY).dense(1, Activation.IDENTITY).loss(Loss.MSE).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () ->
                Trainer.builder().epochs(50).batchSize(1).optimizer(Optimizer.sgd(5)).build().fit(net, big, null));
        assertTrue(e.getMessage().matches("training diverged at epoch \\d+, batch \\d of 4: .*smaller learning rate.*"),
                e.getMessage());
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(-0.1));
        assertThrows(IllegalArgumentException.class, () -> Optimizer.adam(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().epochs(0));
        Network net = Network.builder(3).dense(2, Activation.SOFTMAX).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.builder().build().fit(net, truthTable("XOR", 0, 1, 1, 0), null));
        assertTrue(e.getMessage().contains("2 features per row but the network takes 3 inputs"), e.getMessage());
    }
}
