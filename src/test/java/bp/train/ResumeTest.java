package bp.train;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Resuming from a state taken after an epoch or in the middle of one gives the uninterrupted result. */
class ResumeTest {

    static Network net() {
        return Network.builder(64).dense(32, Activation.RELU).dense(10, Activation.SOFTMAX)
                .loss(Loss.CROSS_ENTROPY).seed(5).build();
    }

    static Trainer.Builder settings() {
        return Trainer.builder().epochs(4).batchSize(16).optimizer(Optimizer.adam(0.003)).schedule(Schedule.cosine())
                .threads(2);
    }

    @Test
    void resumeAfterAnEpochAndInTheMiddleOfOne() {
        Dataset train = DataSources.digits().train();
        Network full = net();
        List<EpochStats> fullHistory = settings().build().fit(full, train, null);
        for (int[] at : new int[][] {{2, 0}, {1, 21}, {3, 63}}) {
            TrainingState[] taken = new TrainingState[1];
            Network first = net();
            settings().stateEvery(7).listener(new TrainingListener() {
                @Override
                public boolean wantsState() {
                    return true;
                }

                @Override
                public void onState(TrainingState s) {
                    if (s.epoch() == at[0] && s.batch() == at[1]) {
                        taken[0] = s;
                    }
                }
            }).build().fit(first, train, null);
            assertNotNull(taken[0], "no state at epoch " + at[0] + " batch " + at[1]);
            Network resumed = net();
            List<EpochStats> rest = settings().resumeFrom(taken[0]).build().fit(resumed, train, null);
            assertArrayEquals(full.parameters(), resumed.parameters(), "resumed at " + at[0] + "/" + at[1]);
            EpochStats lastFull = fullHistory.get(fullHistory.size() - 1);
            EpochStats lastResumed = rest.get(rest.size() - 1);
            assertEquals(lastFull.trainLoss(), lastResumed.trainLoss(), "the epoch's running loss continues too");
            assertEquals(lastFull.trainAccuracy(), lastResumed.trainAccuracy());
        }
    }
}
