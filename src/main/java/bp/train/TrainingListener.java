package bp.train;

/** Receives events from a running {@link Trainer}; every method has an empty default. */
public interface TrainingListener {

    /**
     * Before each epoch's first batch.
     *
     * @param epoch the epoch, from 1
     * @param batches its batches
     */
    default void onEpochStart(int epoch, int batches) {
    }

    /**
     * After each update; {@code meanLoss} is the batch's mean loss.
     *
     * @param epoch the epoch, from 1
     * @param batch the batch, from 1
     * @param batches the epoch's batches
     * @param meanLoss the batch's mean loss
     */
    default void onBatchEnd(int epoch, int batch, int batches, double meanLoss) {
    }

    /**
     * After each epoch and its evaluations.
     *
     * @param stats what the epoch achieved
     */
    default void onEpochEnd(EpochStats stats) {
    }

    /**
     * Whether this listener wants {@link #onState} (a copy of the parameters after each epoch).
     *
     * @return whether to call {@link #onState}
     */
    default boolean wantsState() {
        return false;
    }

    /**
     * After each epoch (and its {@link #onEpochEnd}), the state to resume from: for checkpoints.
     *
     * @param state a copy, safe to keep
     */
    default void onState(TrainingState state) {
    }
}
