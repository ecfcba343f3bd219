package bp.train;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.nn.Activation;
import bp.nn.LayerActivation;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@link GradientSource} that computes each aligned block of groups separately, as executors would,
 * trains the same bits as the trainer alone: for any number of places, batch, shard and clipping.
 */
class GradientSourceTest {

    /** Computes the blocks one by one on copies of the network, like executors that receive the parameters. */
    static final class Blocks implements GradientSource {
        final int places;
        final List<Integer> blocksPerStep = new ArrayList<>();

        Blocks(int places) {
            this.places = places;
        }

        @Override
        public Run start(Network net, Dataset train, int batch, int shard) {
            return new Run() {
                @Override
                public Result gradient(Network current, int[] order, int from, int size, float[][] partials) {
                    int used = BatchGradient.groupsUsed(size, batch, shard);
                    int perBlock = BatchGradient.blockSize(used, places);
                    double[] losses = new double[used];
                    long correct = 0;
                    int blocks = 0;
                    for (int g0 = 0; g0 < used; g0 += perBlock, blocks++) {
                        int g1 = Math.min(used, g0 + perBlock);
                        double[] blockLosses = new double[g1 - g0];
                        correct += BatchGradient.block(current.copy(), train, order.clone(), from, size, batch, shard,
                                g0, g1, partials[blocks], blockLosses);
                        System.arraycopy(blockLosses, 0, losses, g0, blockLosses.length);
                    }
                    blocksPerStep.add(blocks);
                    return new Result(blocks, losses, correct);
                }

                @Override
                public void close() {
                }
            };
        }
    }

    @Test
    void blocksTrainTheSameBitsAsTheTrainer() {
        Dataset digits = DataSources.digits().train();
        int[][] settings = {{128, 16, 2}, {128, 16, 3}, {100, 7, 4}, {300, 32, 2}, {64, 64, 2}, {128, 128, 2}, {5, 2, 2},
            {1, 1, 2}};
        for (int[] s : settings) {
            for (double clip : new double[] {0, 0.5}) {
                String name = "batch " + s[0] + ", shard " + s[1] + ", " + s[2] + " places, clip " + clip;
                Network local = network();
                Network remote = network();
                Trainer.Builder b = Trainer.builder().epochs(2).batchSize(s[0]).shardSize(s[1])
                        .optimizer(Optimizer.adam(0.003)).seed(4).clipNorm(clip);
                List<EpochStats> a = b.build().fit(local, digits, null);
                Blocks source = new Blocks(s[2]);
                List<EpochStats> c = b.gradientSource(source).build().fit(remote, digits, null);
                assertArrayEquals(local.parameters(), remote.parameters(), name);
                assertEquals(a.get(1).trainLoss(), c.get(1).trainLoss(), name);
                assertEquals(a.get(1).trainAccuracy(), c.get(1).trainAccuracy(), name);
                int groups = BatchGradient.groups(s[0], s[1]);
                int blocks = source.blocksPerStep.get(0);
                assertTrue(blocks <= s[2] && (groups == 1 || blocks > 1), name + ": " + blocks + " blocks");
            }
        }
    }

    private static Network network() {
        // the 200-unit tanh layer is wider than a block of units: the trainer's two threads share its
        // forward pass out by units, the blocks compute it by rows. The 150-unit layer's input gradient
        // goes by chunks of its units in the trainer, by rows in the blocks; the 140-unit layer's by rows
        // in both (into a PReLU layer), its two chunks added in place
        return Network.builder(64).dense(200, Activation.TANH).dense(150, Activation.RELU)
                .dense(40, LayerActivation.parse("prelu")).dense(140, Activation.TANH).dense(10, Activation.SOFTMAX)
                .seed(3).build();
    }
}
