package bp.train;

import bp.nn.Network;

/**
 * What the epoch loop of a {@link TrainingRun} does with each batch of an epoch's order. The
 * trainer's own step trains the batch on this JVM's cores; another step can do it elsewhere, and
 * may take a "batch" to be something larger (bp-spark's local SGD trains a round of several
 * mini-batches per executor in one step). The loop keeps everything around the steps: epochs,
 * shuffles, schedules, listeners, evaluation, early stopping, checkpoints and the divergence check.
 */
public interface TrainingStep extends AutoCloseable {

    /**
     * Trains the network on rows {@code order[from, from + size)} of the training set.
     *
     * @param epoch the epoch, from 1
     * @param from the batch's first position in the epoch's order (the batch's number times the
     *             run's batch size)
     * @param size its rows
     * @param lr the learning rate of this epoch (the optimizer's, scaled by the schedule)
     * @return the batch's summed loss, NaN or infinite when the parameters have diverged
     */
    double train(int epoch, long from, int size, double lr);

    /**
     * {@return the rows of the last batch classified correctly (0 for regression)}
     */
    long correct();

    /** Releases what the step holds; by default nothing. */
    @Override
    default void close() {
    }

    /** Makes the step of a run. */
    @FunctionalInterface
    interface Factory {

        /**
         * The step of a run that trains {@code net} on {@code train}.
         *
         * @param net the network, trained in place
         * @param train the training rows
         * @param order the epoch's order of the rows, refilled by the loop before each epoch; null
         *              when the rows are not in this JVM (the step orders them itself)
         * @param state the run's optimizer state (what checkpoints save)
         * @return the step
         */
        TrainingStep start(Network net, Rows train, int[] order, Optimizer.State state);
    }
}
