package bp.train;

/** Receives events from a running {@link Trainer}; every method has an empty default. */
public interface TrainingListener {

    default void onEpochStart(int epoch, int batches) {
    }

    /** After each update; {@code meanLoss} is the batch's mean loss. */
    default void onBatchEnd(int epoch, int batch, int batches, double meanLoss) {
    }

    default void onEpochEnd(EpochStats stats) {
    }
}
