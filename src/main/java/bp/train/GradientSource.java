package bp.train;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.nn.Network;

/**
 * Computes mini-batch gradients somewhere other than this JVM's threads, such as the executors
 * of a Spark cluster, for a {@link Trainer} that keeps everything else: the epochs and their
 * shuffles, the optimizer, schedules, early stopping, checkpoints and listeners. A source that
 * follows {@link BatchGradient} (aligned blocks of groups, each summed in its tree order) makes the
 * trained model bit-for-bit the one {@link Trainer} computes alone.
 */
public interface GradientSource {

    /**
     * Starts a run on {@code train} with these batch and shard sizes; the network's architecture is fixed for it.
     *
     * @param net the network to train
     * @param train the training set
     * @param batch rows per batch
     * @param shard rows per shard
     * @return the run, to close when training ends
     */
    Run start(Network net, Dataset train, int batch, int shard);

    /** One training run's connection to the source. */
    interface Run extends AutoCloseable {

        /**
         * The gradient of rows {@code order[from, from + size)} of the run's data at the network's
         * current parameters. The batch's {@link BatchGradient#groupsUsed groups} are computed in
         * aligned blocks of {@link BatchGradient#blockSize} groups; block b's tree sum is written to
         * {@code partials[b]} (at most {@link BatchGradient#groups} of them).
         *
         * @param net the network, at its current parameters
         * @param order the epoch's order of the rows
         * @param from the batch's first position in {@code order}
         * @param size the batch's rows
         * @param partials where the blocks' sums go
         * @return what was computed
         */
        Result gradient(Network net, int[] order, int from, int size, float[][] partials);

        @Override
        void close();
    }

    /**
     * What {@link Run#gradient} computed: how many blocks it wrote, each group's summed loss in
     * group order, and the rows classified correctly.
     *
     * @param blocks how many blocks of groups were written to the partial sums
     * @param groupLosses each group's summed loss, in group order
     * @param correct correctly classified rows of the batch
     */
    record Result(int blocks, double[] groupLosses, long correct) {
    }
}
