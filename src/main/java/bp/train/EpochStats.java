package bp.train;

/**
 * What one epoch achieved. Training loss and accuracy are averaged over the epoch's batches as
 * they were trained (as PyTorch scripts usually report them); validation and test figures come
 * from passes over those sets after the epoch. Accuracies are fractions in [0, 1]; figures are NaN
 * where undefined (regression, or no such set). Seconds and samples/s cover the training passes.
 */
public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double validationLoss,
                         double validationAccuracy, double testLoss, double testAccuracy, double seconds,
                         double samplesPerSecond) {

    /** Whether a validation set was evaluated. */
    public boolean hasValidation() {
        return !Double.isNaN(validationLoss);
    }
}
