package bp.train;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.kernel.Parallel;
import bp.nn.Network;

import java.util.ArrayList;
import java.util.List;

/**
 * Mini-batch gradient descent by backpropagation.
 *
 * <p>Each epoch shuffles the training set (from the seed) and cuts it into batches of
 * {@code batchSize} samples. A batch is cut into shards of {@code shardSize} samples (by default the
 * whole batch, up to 256 rows); consecutive shards form at most {@value BatchGradient#MAX_GROUPS}
 * groups, each summed into its own gradient buffer, the group sums are added in a fixed binary-tree
 * order and one update is applied. Every thread works on every shard: each matrix product is
 * shared out by blocks of rows or units that are computed the same way whoever computes them (see
 * {@link Step}). None of this depends on the number of threads, so a run's result is bit-for-bit
 * the same for 1 or 64 threads. Batch size 1 is online learning, batch size ≥ the
 * training set size is full-batch learning.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().epochs(10).batchSize(128).optimizer(Optimizer.adam(1e-3)).build();
 * List<EpochStats> history = trainer.fit(net, train, test);
 * }</pre>
 */
public final class Trainer {

    /** A copy of the builder's settings, which TrainingRun reads. */
    final Builder settings;

    private Trainer(Builder b) {
        this.settings = b.copy();
    }

    /** {@return a builder with this trainer's settings, to derive another trainer from} */
    public Builder toBuilder() {
        return settings.copy();
    }

    /** {@return a builder of a trainer's settings, each at its default} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the samples per update as set (a batch larger than the training set is the whole set)} */
    public int batchSize() {
        return settings.batchSize;
    }

    /** {@return the optimizer and its learning rate} */
    public Optimizer optimizer() {
        return settings.optimizer;
    }

    /** {@return the seed of the epochs' shuffling} */
    public long seed() {
        return settings.seed;
    }

    /**
     * Trains {@code net} in place on {@code train}, reporting test figures on {@code test} (may be
     * null) after each epoch, and returns the per-epoch statistics.
     *
     * @param net the network, whose parameters are trained in place
     * @param train the rows to train on
     * @param test the rows to evaluate on after each epoch, or {@code null}
     * @return each epoch's figures
     * @throws TrainingDivergedException when a batch's loss is NaN or infinite; the network's parameters
     *                                   are then unusable (they produced that loss)
     */
    public List<EpochStats> fit(Network net, Dataset train, Dataset test) {
        return fit(net, train, null, test);
    }

    /**
     * As {@link #fit(Network, Dataset, Dataset)}, also evaluating {@code validation} (may be null)
     * after each epoch. With a {@link Builder#patience patience} of N, training stops when the
     * validation loss has not improved for N epochs, and the network is left with the weights of
     * its best epoch ({@link EpochStats#bestEpoch}).
     *
     * @param net the network, whose parameters are trained in place
     * @param train the rows to train on
     * @param validation the rows early stopping watches, or {@code null}
     * @param test the rows to evaluate on after each epoch, or {@code null}
     * @return each epoch's figures
     */
    public List<EpochStats> fit(Network net, Dataset train, Dataset validation, Dataset test) {
        try (TrainingRun run = start(net, train, validation, test)) {
            return run.toEnd();
        }
    }

    /**
     * Starts a run that trains {@code net} a step at a time, as {@link #fit(Network, Dataset, Dataset, Dataset)}
     * would; close it when done.
     *
     * @param net the network, whose parameters are trained in place
     * @param train the rows to train on
     * @param validation the rows early stopping watches, or {@code null}
     * @param test the rows to evaluate on after each epoch, or {@code null}
     * @return the run, before its first step
     */
    public TrainingRun start(Network net, Dataset train, Dataset validation, Dataset test) {
        return start(net, Rows.of(train), Rows.of(validation), Rows.of(test));
    }

    /**
     * As {@link #start(Network, Dataset, Dataset, Dataset)} on rows that may live elsewhere (see
     * {@link Rows}).
     *
     * @param net the network, whose parameters are trained in place
     * @param train the rows to train on
     * @param validation the rows early stopping watches, or {@code null}
     * @param test the rows to evaluate on after each epoch, or {@code null}
     * @return the run, before its first step
     */
    public TrainingRun start(Network net, Rows train, Rows validation, Rows test) {
        return new TrainingRun(this, net, train, validation, test);
    }

    /**
     * {@return the rows per shard this trainer uses for batches of {@code batch} samples}
     *
     * @param batch a batch size
     */
    public int shardSize(int batch) {
        return settings.shardSize > 0 ? settings.shardSize : BatchGradient.defaultShardSize(batch);
    }

    /**
     * Mean loss, accuracy and confusion matrix of {@code net} on {@code data}, using all cores.
     *
     * @param net the network
     * @param data the rows to evaluate it on
     * @return the figures
     */
    public static Evaluation evaluate(Network net, Dataset data) {
        TrainingRun.checkShapes(net, Rows.of(data));
        try (Parallel parallel = new Parallel(Runtime.getRuntime().availableProcessors())) {
            return new Evaluator(net, data, parallel.threads()).run(parallel);
        }
    }

    /** Settings of a {@link Trainer}; each setter checks its value. */
    public static final class Builder {
        private Builder() {
        }

        int epochs = 10;
        int batchSize = 64;
        int shardSize = 0;
        Optimizer optimizer = Optimizer.sgd(0.1);
        Schedule schedule = Schedule.CONSTANT;
        long seed = 1;
        int threads = Runtime.getRuntime().availableProcessors();
        boolean updateBiases = true;
        int patience = 0;
        double clipNorm = 0;
        TrainingState resumeFrom;
        int checkpointEvery;
        final List<TrainingListener> listeners = new ArrayList<>();
        GradientSource gradientSource;
        StepProfile profile;
        TrainingStep.Factory steps;

        /**
         * Records where each step's time goes into {@code profile} (see {@link StepProfile#report}).
         *
         * @param profile where to record
         * @return this builder
         */
        public Builder profile(StepProfile profile) {
            this.profile = profile;
            return this;
        }

        /**
         * Trains each batch with the steps {@code factory} makes instead of bp's own step on this
         * JVM's cores (see {@link TrainingStep}); the rest of the loop stays the same.
         *
         * @param factory makes the step of each run
         * @return this builder
         */
        public Builder steps(TrainingStep.Factory factory) {
            this.steps = java.util.Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * Computes the mini-batch gradients with {@code source} (e.g. on Spark executors) instead of
         * this JVM's pool; the sum of its blocks, the update and everything else stay here.
         *
         * @param source where the gradients are computed
         * @return this builder
         */
        public Builder gradientSource(GradientSource source) {
            this.gradientSource = source;
            return this;
        }

        /**
         * Epochs to train (default 10).
         *
         * @param epochs at least 1
         * @return this builder
         */
        public Builder epochs(int epochs) {
            this.epochs = positive("epochs", epochs);
            return this;
        }

        /**
         * Samples per update: 1 is online learning, the training-set size (or more) full-batch.
         *
         * @param batchSize at least 1 (default 64)
         * @return this builder
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = positive("batch size", batchSize);
            return this;
        }

        /**
         * How the learning rate changes from epoch to epoch (default: constant).
         *
         * @param schedule the schedule (default constant)
         * @return this builder
         */
        public Builder schedule(Schedule schedule) {
            this.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        /**
         * Samples per parallel task; part of the result's definition (unlike the thread count).
         * Default: the whole batch, up to 256 rows (see {@link Trainer#shardSize(int)}).
         *
         * @param shardSize rows per shard, at least 1
         * @return this builder
         */
        public Builder shardSize(int shardSize) {
            this.shardSize = positive("shard size", shardSize);
            return this;
        }

        /**
         * How gradients update the parameters (default: plain SGD with learning rate 0.1).
         *
         * @param optimizer the optimizer (default SGD with learning rate 0.1)
         * @return this builder
         */
        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
            return this;
        }

        /**
         * Seed of the per-epoch shuffling.
         *
         * @param seed the seed (default 1)
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Worker threads; changes speed, never results.
         *
         * @param threads at least 1 (default: every core)
         * @return this builder
         */
        public Builder threads(int threads) {
            this.threads = positive("threads", threads);
            return this;
        }

        /**
         * False keeps biases at their initial values, as the lecture notes' worked example does.
         *
         * @param updateBiases false to keep the biases as they are (default true)
         * @return this builder
         */
        public Builder updateBiases(boolean updateBiases) {
            this.updateBiases = updateBiases;
            return this;
        }

        /**
         * Early stopping: stop when the validation loss has not improved for {@code epochs} epochs
         * and restore the weights of the best epoch; 0 (the default) trains all epochs.
         *
         * @param epochs epochs without a better validation loss before stopping; 0 for no early stopping
         * @return this builder
         */
        public Builder patience(int epochs) {
            if (epochs < 0) {
                throw new IllegalArgumentException("patience must be 0 (off) or more, not " + epochs);
            }
            this.patience = epochs;
            return this;
        }

        /**
         * Gradient clipping: when the L2 norm of a batch's mean gradient (all parameters together)
         * exceeds {@code maxNorm}, scale it down to that norm, as PyTorch's {@code clip_grad_norm_}
         * does; 0 (the default) never clips.
         *
         * @param maxNorm the largest L2 norm of the mean gradient, positive; 0 for no clipping
         * @return this builder
         */
        public Builder clipNorm(double maxNorm) {
            if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
                throw new IllegalArgumentException("clip norm must be a number >= 0 (0: off), not " + maxNorm);
            }
            this.clipNorm = maxNorm;
            return this;
        }

        /**
         * Continues a run from a state saved after one of its epochs (see {@link TrainingListener#onState}):
         * with the same data, settings and seed, the result is the same bits as a run never stopped.
         *
         * @param state a state a listener received (e.g. read back from a checkpoint)
         * @return this builder
         */
        public Builder resumeFrom(TrainingState state) {
            this.resumeFrom = java.util.Objects.requireNonNull(state, "state");
            return this;
        }

        /**
         * Besides after every epoch, hand the state to {@link TrainingListener#onState} every
         * {@code batches} batches (0, the default: only after epochs).
         *
         * @param batches batches between states, at least 1
         * @return this builder
         */
        public Builder stateEvery(int batches) {
            if (batches < 0) {
                throw new IllegalArgumentException("checkpoint interval must be 0 (epochs only) or more batches, not " + batches);
            }
            this.checkpointEvery = batches;
            return this;
        }

        /**
         * Adds a listener, called after the ones added before.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(TrainingListener listener) {
            listeners.add(listener);
            return this;
        }

        private Builder copy() {
            Builder b = new Builder();
            b.epochs = epochs;
            b.batchSize = batchSize;
            b.shardSize = shardSize;
            b.optimizer = optimizer;
            b.schedule = schedule;
            b.seed = seed;
            b.threads = threads;
            b.updateBiases = updateBiases;
            b.patience = patience;
            b.clipNorm = clipNorm;
            b.resumeFrom = resumeFrom;
            b.checkpointEvery = checkpointEvery;
            b.listeners.addAll(listeners);
            b.gradientSource = gradientSource;
            b.profile = profile;
            b.steps = steps;
            return b;
        }

        /**
         * The trainer with these settings.
         *
         * @return the trainer
         */
        public Trainer build() {
            return new Trainer(this);
        }

        private static int positive(String what, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be at least 1, not " + v);
            }
            return v;
        }
    }
}
