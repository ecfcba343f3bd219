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

    /** Whether this listener wants {@link #onState} (a copy of the parameters after each epoch). */
    default boolean wantsState() {
        return false;
    }

    /** After each epoch (and its {@link #onEpochEnd}), the state to resume from: for checkpoints. */
    default void onState(TrainingState state) {
    }
}
