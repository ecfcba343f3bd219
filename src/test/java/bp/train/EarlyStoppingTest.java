package bp.train;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EarlyStoppingTest {

    /** A wide network, a large learning rate and a small training set: it overfits within a few epochs. */
    @Test
    void stopsAfterPatienceAndRestoresTheBestEpochsWeightsExactly() {
        Dataset[] parts = DataSources.digits().train().split(0.3, new SplittableRandom(4));
        Dataset train = parts[0];
        Dataset validation = parts[1];
        Network net = Network.builder(64).dense(256, Activation.RELU).dense(10, Activation.SOFTMAX)
                .loss(Loss.CROSS_ENTROPY).seed(3).build();
        List<float[]> snapshots = new ArrayList<>();
        int patience = 3;
        List<EpochStats> history = Trainer.builder().epochs(80).batchSize(8).optimizer(Optimizer.adam(0.01))
                .patience(patience).listener(new TrainingListener() {
                    @Override
                    public void onEpochEnd(EpochStats stats) {
                        snapshots.add(net.parameters().clone());
                    }
                }).build().fit(net, train, validation, null);
        int best = EpochStats.bestEpoch(history);
        assertTrue(history.size() < 80, "expected an early stop, trained all " + history.size() + " epochs");
        assertEquals(best + patience, history.size(), "stops exactly `patience` epochs after the best one");
        for (EpochStats s : history.subList(best, history.size())) {
            assertTrue(s.validationLoss() >= history.get(best - 1).validationLoss(), s.toString());
        }
        assertArrayEquals(snapshots.get(best - 1), net.parameters(), "weights of epoch " + best);
        assertEquals(history.get(best - 1).validationLoss(), Trainer.evaluate(net, validation).loss(), 1e-12);
    }

    @Test
    void patienceNeedsAValidationSet() {
        Network net = Network.builder(64).dense(10, Activation.SOFTMAX).loss(Loss.CROSS_ENTROPY).build();
        Trainer trainer = Trainer.builder().epochs(2).patience(2).build();
        Dataset train = DataSources.digits().train();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> trainer.fit(net, train, null));
        assertTrue(e.getMessage().contains("validation"), e.getMessage());
    }
}
