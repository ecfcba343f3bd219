package bp.train;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingRunTest {

    private static Network net() {
        return Network.builder(64).dense(32, Activation.RELU).dense(10, Activation.SOFTMAX).seed(5).build();
    }

    private static Trainer.Builder settings() {
        return Trainer.builder().epochs(3).batchSize(100).optimizer(Optimizer.adam(1e-3)).seed(7).threads(2);
    }

    /** Driving a run a step at a time is fit: the same parameters bit for bit, an epoch's figures at its last batch. */
    @Test
    void steppingARunIsFit() {
        DataSources.TrainTest d = DataSources.digits();
        Network fitted = net();
        List<EpochStats> history = settings().build().fit(fitted, d.train(), d.test());

        Network stepped = net();
        int batches = (d.train().size() + 99) / 100;
        try (TrainingRun run = settings().build().start(stepped, d.train(), null, d.test())) {
            for (int epoch = 1; epoch <= 3; epoch++) {
                assertEquals(epoch, run.epoch());
                for (int b = 1; b < batches; b++) {
                    assertNull(run.step(), "epoch " + epoch + " ended early, at batch " + b);
                }
                EpochStats end = run.step();
                assertEquals(history.get(epoch - 1).testAccuracy(), end.testAccuracy());
                assertEquals(history.get(epoch - 1).trainLoss(), end.trainLoss());
            }
            assertTrue(run.finished());
            assertEquals(3L * batches, run.steps());
            assertThrows(IllegalStateException.class, run::step);
        }
        assertArrayEquals(fitted.parameters(), stepped.parameters());
    }

    /**
     * The evaluators a run keeps from epoch to epoch give each epoch the figures a fresh evaluation
     * of the network as it then is gives, bit for bit, for the validation and the test set alike
     * (a kept sum, or packed weights not re-packed, would not).
     */
    @Test
    void eachEpochsEvaluationIsAFreshOne() {
        DataSources.TrainTest d = DataSources.digits();
        Network net = net();
        List<double[]> fresh = new ArrayList<>();
        Dataset validation = d.test().select("validation", java.util.stream.IntStream.range(0, 150).toArray());
        settings().listener(new TrainingListener() {
            @Override
            public void onEpochEnd(EpochStats stats) {
                fresh.add(new double[] {Trainer.evaluate(net, validation).loss(), Trainer.evaluate(net, d.test()).loss(),
                        Trainer.evaluate(net, d.test()).accuracy()});
            }
        }).build().fit(net, d.train(), validation, d.test()).forEach(stats -> {
            double[] f = fresh.get(stats.epoch() - 1);
            assertEquals(f[0], stats.validationLoss(), "validation, epoch " + stats.epoch());
            assertEquals(f[1], stats.testLoss(), "test, epoch " + stats.epoch());
            assertEquals(f[2], stats.testAccuracy(), "test, epoch " + stats.epoch());
        });
        assertEquals(3, fresh.size());
    }

    /** The next row is the first of the epoch's order, which depends on the seed and the epoch only. */
    @Test
    void nextRowFollowsTheEpochOrder() {
        Dataset train = DataSources.digits().train();
        int[] firstRows = new int[2];
        for (int attempt = 0; attempt < 2; attempt++) {
            try (TrainingRun run = settings().batchSize(train.size()).build().start(net(), train, null, null)) {
                firstRows[attempt] = run.nextRow();
                run.step();
                assertEquals(2, run.epoch());
            }
        }
        assertEquals(firstRows[0], firstRows[1]);
    }

    /**
     * A step of one's own gets every batch of each epoch in order, with the schedule's learning
     * rate, and the loop around it reports its loss and accuracy as for the trainer's own step.
     */
    @Test
    void aStepOfOnesOwnPlugsIntoTheLoop() {
        Dataset train = DataSources.digits().train();
        List<String> calls = new ArrayList<>();
        List<Double> batchLosses = new ArrayList<>();
        TrainingStep.Factory factory = (net, data, order, state) -> {
            assertEquals(train.size(), order.length);
            return new TrainingStep() {
                @Override
                public double train(int epoch, long from, int size, double lr) {
                    calls.add(epoch + ":" + from + "+" + size + "@" + lr);
                    return 2.0 * size; // a mean loss of 2 per row
                }

                @Override
                public long correct() {
                    return 1;
                }
            };
        };
        Trainer trainer = settings().epochs(2).batchSize(1000).optimizer(Optimizer.sgd(0.5)).schedule(Schedule.step(1, 0.5))
                .steps(factory).listener(new TrainingListener() {
                    @Override
                    public void onBatchEnd(int epoch, int batch, int batches, double meanLoss) {
                        batchLosses.add(meanLoss);
                    }
                }).build();
        List<EpochStats> history = trainer.fit(net(), train, null);
        int n = train.size();
        int last = n - 1000;
        assertEquals(List.of("1:0+1000@0.5", "1:1000+" + last + "@0.5", "2:0+1000@0.25", "2:1000+" + last + "@0.25"),
                calls, "n = " + n);
        assertEquals(2.0, history.get(1).trainLoss(), 1e-12);
        assertEquals(2.0 / n, history.get(1).trainAccuracy(), 1e-12);
        assertEquals(List.of(2.0, 2.0, 2.0, 2.0), batchLosses);
    }

    /** A step that reports a loss that is not finite stops the run with the epoch and batch. */
    @Test
    void aDivergingStepStopsTheRun() {
        Dataset train = DataSources.digits().train();
        Trainer trainer = settings().batchSize(1000).steps((net, data, order, state) -> new TrainingStep() {
            @Override
            public double train(int epoch, long from, int size, double lr) {
                return from == 0 ? 1 : Double.NaN;
            }

            @Override
            public long correct() {
                return 0;
            }
        }).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> trainer.fit(net(), train, null));
        assertTrue(e.getMessage().startsWith("training diverged at epoch 1, batch 2 of 2: the loss is NaN"), e.getMessage());
    }

    /** toBuilder copies every setting: the derived trainer trains the same bits. */
    @Test
    void toBuilderKeepsTheSettings() {
        Dataset train = DataSources.digits().train();
        Trainer original = settings().epochs(1).optimizer(Optimizer.sgd(0.1)).clipNorm(0.01).shardSize(30).build();
        Network a = net();
        Network b = net();
        original.fit(a, train, null);
        original.toBuilder().build().fit(b, train, null);
        assertArrayEquals(a.parameters(), b.parameters());
        Network c = net();
        original.toBuilder().clipNorm(0).build().fit(c, train, null);
        assertTrue(!Arrays.equals(a.parameters(), c.parameters()), "clipping made no difference: the test shows nothing");
    }
}
