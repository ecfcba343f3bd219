package bp.train;

import java.util.List;

/**
 * What one epoch achieved. Training loss and accuracy are averaged over the epoch's batches as
 * they were trained (as PyTorch scripts usually report them); validation and test figures come
 * from passes over those sets after the epoch. Accuracies are fractions in [0, 1]; figures are NaN
 * where undefined (regression, or no such set). Seconds and samples/s cover the training passes.
 *
 * @param epoch the epoch, from 1
 * @param trainLoss mean training loss over the epoch's batches
 * @param trainAccuracy training accuracy over the epoch's batches
 * @param validationLoss mean loss on the validation set
 * @param validationAccuracy accuracy on the validation set
 * @param testLoss mean loss on the test set
 * @param testAccuracy accuracy on the test set
 * @param seconds time spent training
 * @param samplesPerSecond training samples per second
 */
public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double validationLoss,
                         double validationAccuracy, double testLoss, double testAccuracy, double seconds,
                         double samplesPerSecond) {

    /**
     * Whether a validation set was evaluated.
     *
     * @return whether the validation figures are there
     */
    public boolean hasValidation() {
        return !Double.isNaN(validationLoss);
    }

    /**
     * One line, as {@code bp train} prints an epoch: {@code epoch 3  train loss 0.1488 acc 95.34%
     * test loss 0.1093 acc 97.49%  0.20 s  7121 samples/s}; sets and accuracies that are not there
     * (regression, no validation or test set) are left out.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("epoch ").append(epoch);
        part(sb, "train", trainLoss, trainAccuracy);
        part(sb, "validation", validationLoss, validationAccuracy);
        part(sb, "test", testLoss, testAccuracy);
        return sb.append(String.format(java.util.Locale.ROOT, "  %.2f s  %.0f samples/s", seconds, samplesPerSecond))
                .toString();
    }

    private static void part(StringBuilder sb, String set, double loss, double accuracy) {
        if (!Double.isNaN(loss)) {
            sb.append(String.format(java.util.Locale.ROOT, "  %s loss %.4f", set, loss));
            if (!Double.isNaN(accuracy)) {
                sb.append(String.format(java.util.Locale.ROOT, " acc %.2f%%", 100 * accuracy));
            }
        }
    }

    /**
     * The epoch early stopping keeps: the first with the lowest validation loss (0 when the history
     * has no validation figures).
     *
     * @param history what {@link Trainer#fit} returned
     * @return the epoch, from 1, or 0
     */
    public static int bestEpoch(List<EpochStats> history) {
        int best = 0;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (EpochStats s : history) {
            if (s.validationLoss() < bestLoss) {
                bestLoss = s.validationLoss();
                best = s.epoch();
            }
        }
        return best;
    }
}
