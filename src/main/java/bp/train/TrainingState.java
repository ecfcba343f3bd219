package bp.train;

/**
 * Everything a run needs to continue after {@code epoch} completed epochs and {@code batch} batches
 * of the next one exactly as if it had not stopped: the parameters, the optimizer's buffers and step
 * count, the next epoch's running loss and correct count so far, and early stopping's best weights
 * (null without early stopping). Shuffling depends only on the seed and the epoch number, so it needs
 * no state of its own. Arrays are copies, safe to keep or write.
 *
 * @param epoch epochs completed
 * @param batch batches completed of the next epoch
 * @param epochLoss summed loss of those batches
 * @param epochCorrect correctly classified rows of those batches
 * @param parameters the network's parameters
 * @param optimizerSteps the optimizer's step count
 * @param optimizerBuffers the optimizer's state (moments, velocities)
 * @param bestEpoch early stopping's best epoch so far
 * @param bestLoss that epoch's validation loss
 * @param bestParameters that epoch's parameters, or {@code null} without early stopping
 */
public record TrainingState(int epoch, int batch, double epochLoss, long epochCorrect, float[] parameters,
                            long optimizerSteps, float[][] optimizerBuffers, float[] bestParameters, int bestEpoch,
                            double bestLoss) {
}
