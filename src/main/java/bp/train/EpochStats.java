package bp.train;

/**
 * What one epoch achieved. Training loss and accuracy are averaged over the epoch's batches as
 * they were trained (as PyTorch scripts usually report them); test figures come from a pass over
 * the test set after the epoch. Accuracies are fractions in [0, 1], NaN where undefined (regression,
 * or no test set).
 */
public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy,
                         double seconds, double samplesPerSecond) {
}
