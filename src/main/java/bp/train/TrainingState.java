package bp.train;

/**
 * Everything a run needs to continue after {@code epoch} completed epochs exactly as if it had
 * not stopped: the parameters, the optimizer's buffers and step count, and early stopping's best
 * weights (null without early stopping). Shuffling depends only on the seed and the epoch number,
 * so it needs no state of its own. Arrays are copies, safe to keep or write.
 */
public record TrainingState(int epoch, float[] parameters, long optimizerSteps, float[][] optimizerBuffers,
                            float[] bestParameters, int bestEpoch, double bestLoss) {
}
