package bp.train;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.kernel.Parallel;
import bp.nn.Network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

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

    private final int epochs;
    private final int batchSize;
    private final int shardSize;
    private final Optimizer optimizer;
    private final Schedule schedule;
    private final long seed;
    private final int threads;
    private final boolean updateBiases;
    private final int patience;
    private final double clipNorm;
    private final TrainingState resumeFrom;
    private final int checkpointEvery;
    private final List<TrainingListener> listeners;
    private final GradientSource gradientSource;
    private final StepProfile profile;

    private Trainer(Builder b) {
        this.profile = b.profile;
        this.gradientSource = b.gradientSource;
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.shardSize = b.shardSize;
        this.patience = b.patience;
        this.clipNorm = b.clipNorm;
        this.resumeFrom = b.resumeFrom;
        this.checkpointEvery = b.checkpointEvery;
        this.optimizer = b.optimizer;
        this.schedule = b.schedule;
        this.seed = b.seed;
        this.threads = b.threads;
        this.updateBiases = b.updateBiases;
        this.listeners = List.copyOf(b.listeners);
    }

    /**
     * Starts the settings of a trainer, each at its default.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Epochs to train.
     *
     * @return the number of epochs
     */
    public int epochs() {
        return epochs;
    }

    /**
     * Samples per update as set (a batch larger than the training set is the whole set).
     *
     * @return the batch size
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * The optimizer and its learning rate.
     *
     * @return the optimizer
     */
    public Optimizer optimizer() {
        return optimizer;
    }

    /**
     * How the learning rate changes from epoch to epoch.
     *
     * @return the schedule
     */
    public Schedule schedule() {
        return schedule;
    }

    /**
     * Seed of the epochs' shuffling.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * The listeners, in the order they are called.
     *
     * @return the listeners (unmodifiable)
     */
    public List<TrainingListener> listeners() {
        return listeners;
    }

    /**
     * The training order of epoch {@code epoch} (1-based) for {@code n} rows: it depends only on the
     * seed and the epoch, so a resumed run, or a training loop of one's own, repeats it.
     *
     * @param epoch the epoch, from 1
     * @param n the number of rows
     * @return a permutation of 0 … n − 1
     */
    public int[] epochOrder(int epoch, int n) {
        int[] order = new int[n];
        fillEpochOrder(order, epoch);
        return order;
    }

    private void fillEpochOrder(int[] order, int epoch) {
        Arrays.setAll(order, i -> i);
        Dataset.shuffle(order, new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch));
    }

    /**
     * Trains {@code net} in place on {@code train}, reporting test figures on {@code test} (may be
     * null) after each epoch, and returns the per-epoch statistics.
     *
     * @throws TrainingDivergedException when a batch's loss is NaN or infinite; the network's parameters
     *                                   are then unusable (they produced that loss)
     *
     * @param net the network, whose parameters are trained in place
     * @param train the rows to train on
     * @param test the rows to evaluate on after each epoch, or {@code null}
     * @return each epoch's figures
     */
    public List<EpochStats> fit(Network net, Dataset train, Dataset test) {
        return fit(net, train, null, test);
    }

    /**
     * As {@link #fit(Network, Dataset, Dataset)}, also evaluating {@code validation} (may be null)
     * after each epoch. With a {@link Builder#patience patience} of N, training stops when the
     * validation loss has not improved for N epochs, and the network is left with the weights of
     * its best epoch ({@link #bestEpoch}).
     *
     * @param net the network, whose parameters are trained in place
     * @param train the rows to train on
     * @param validation the rows early stopping watches, or {@code null}
     * @param test the rows to evaluate on after each epoch, or {@code null}
     * @return each epoch's figures
     */
    public List<EpochStats> fit(Network net, Dataset train, Dataset validation, Dataset test) {
        checkShapes(net, train);
        if (validation != null) {
            checkShapes(net, validation);
        }
        if (test != null) {
            checkShapes(net, test);
        }
        if (patience > 0 && validation == null) {
            throw new IllegalArgumentException("early stopping (patience " + patience + ") needs a validation set");
        }
        int n = train.size();
        int batch = Math.min(batchSize, n);
        int shard = shardSize(batch);
        int[] order = new int[n]; // filled at the start of each epoch
        try (Parallel parallel = new Parallel(threads);
             GradientSource.Run remote = gradientSource == null ? null : gradientSource.start(net, train, batch, shard)) {
            return epochs(net, train, validation, test, order, batch, shard, parallel, remote);
        }
    }

    private List<EpochStats> epochs(Network net, Dataset train, Dataset validation, Dataset test, int[] order,
                                    int batch, int shard, Parallel parallel, GradientSource.Run remote) {
        int n = train.size();
        int batches = ceilDiv(n, batch);
        Optimizer.State state = optimizer.newState(net.parameterCount());
        Best best = patience > 0 ? new Best(net.parameters()) : null;
        TrainingState resumed = resumeFrom == null ? null : resume(net, state, best);
        int firstEpoch = resumed == null ? 1 : resumed.epoch() + 1;
        List<EpochStats> history = new ArrayList<>();
        Step step = new Step(net, train, order, batch, shard, clipNorm, parallel, remote, profile);
        for (int epoch = firstEpoch; epoch <= epochs; epoch++) {
            for (int i = 0; i < listeners.size(); i++) {
                listeners.get(i).onEpochStart(epoch, batches);
            }
            long start = System.nanoTime();
            fillEpochOrder(order, epoch);
            EpochSums sums = epoch == firstEpoch && resumed != null
                    ? new EpochSums(resumed.batch(), resumed.epochLoss(), resumed.epochCorrect())
                    : new EpochSums(0, 0, 0);
            trainEpoch(net, step, state, epoch, sums, n, batch, best);
            double seconds = (System.nanoTime() - start) / 1e9;
            Evaluation val = validation == null ? null : evaluate(net, validation, parallel);
            Evaluation eval = test == null ? null : evaluate(net, test, parallel);
            EpochStats stats = new EpochStats(epoch, sums.loss / n,
                    train.isClassification() ? (double) sums.correct / n : Double.NaN,
                    val == null ? Double.NaN : val.loss(), val == null ? Double.NaN : val.accuracy(),
                    eval == null ? Double.NaN : eval.loss(), eval == null ? Double.NaN : eval.accuracy(),
                    seconds, n / seconds);
            history.add(stats);
            for (TrainingListener l : listeners) {
                l.onEpochEnd(stats);
            }
            boolean stop = best != null && best.stopsAfter(epoch, val.loss(), net.parameters(), patience);
            publishState(net, epoch, 0, 0, 0, state, best);
            if (stop) {
                break;
            }
        }
        if (best != null) {
            System.arraycopy(best.parameters, 0, net.parameters(), 0, best.parameters.length);
            net.parametersChanged();
        }
        return history;
    }

    /** The running loss and correct count of an epoch, and the batch it starts at (after a resume). */
    private static final class EpochSums {
        final int firstBatch;
        double loss;
        long correct;

        EpochSums(int firstBatch, double loss, long correct) {
            this.firstBatch = firstBatch;
            this.loss = loss;
            this.correct = correct;
        }
    }

    /** Early stopping's best epoch so far: its number, validation loss and parameters. */
    private static final class Best {
        final float[] parameters;
        int epoch;
        double loss = Double.POSITIVE_INFINITY;

        Best(float[] start) {
            parameters = start.clone();
        }

        /** Takes an epoch's validation loss; whether {@code patience} epochs have passed without a better one. */
        boolean stopsAfter(int epochNumber, double validationLoss, float[] current, int patience) {
            if (validationLoss < loss) {
                loss = validationLoss;
                epoch = epochNumber;
                System.arraycopy(current, 0, parameters, 0, parameters.length);
                return false;
            }
            return epochNumber - epoch >= patience;
        }
    }

    /** Puts the network, the optimizer and early stopping where {@link #resumeFrom} left them. */
    private TrainingState resume(Network net, Optimizer.State state, Best best) {
        TrainingState r = resumeFrom;
        if (r.parameters().length != net.parameterCount()) {
            throw new IllegalArgumentException("the checkpoint has " + r.parameters().length
                    + " parameters, the network " + net.parameterCount());
        }
        if (r.epoch() >= epochs || r.batch() < 0) {
            throw new IllegalArgumentException("the checkpoint is at epoch " + r.epoch() + " of " + epochs
                    + ": nothing left to train");
        }
        System.arraycopy(r.parameters(), 0, net.parameters(), 0, r.parameters().length);
        net.parametersChanged();
        state.restore(r.optimizerSteps(), r.optimizerBuffers());
        if (best != null && r.bestParameters() != null) {
            System.arraycopy(r.bestParameters(), 0, best.parameters, 0, best.parameters.length);
            best.epoch = r.bestEpoch();
            best.loss = r.bestLoss();
        }
        return r;
    }

    /** The batches of one epoch, from {@code sums.firstBatch} on, adding their loss and correct count to {@code sums}. */
    private void trainEpoch(Network net, Step step, Optimizer.State state, int epoch, EpochSums sums, int n, int batch,
                            Best best) {
        int batches = ceilDiv(n, batch);
        double lr = optimizer.learningRate() * schedule.factor(epoch - 1, epochs);
        for (int b = sums.firstBatch; b < batches; b++) {
            int from = b * batch;
            int size = Math.min(batch, n - from);
            long stepStart = profile == null ? 0 : System.nanoTime();
            double batchLoss = step.train(from, size, state, lr, updateBiases);
            if (profile != null) {
                profile.step(System.nanoTime() - stepStart);
            }
            if (!Double.isFinite(batchLoss)) {
                throw new TrainingDivergedException("training diverged at epoch " + epoch + ", batch "
                        + (b + 1) + " of " + batches + ": the loss is " + batchLoss
                        + "; try a smaller learning rate (now " + lr + ")");
            }
            sums.correct += step.correct;
            sums.loss += batchLoss;
            for (int i = 0; i < listeners.size(); i++) {
                listeners.get(i).onBatchEnd(epoch, b + 1, batches, batchLoss / size);
            }
            if (checkpointEvery > 0 && (b + 1) % checkpointEvery == 0 && b + 1 < batches) {
                publishState(net, epoch - 1, b + 1, sums.loss, sums.correct, state, best);
            }
        }
    }

    /**
     * The epoch early stopping keeps: the first with the lowest validation loss (0 when the history
     * has no validation figures).
     *
     * @param history what {@link #fit} returned
     * @return the epoch, from 1, or 0
     */
    public static int bestEpoch(List<EpochStats> history) {
        int best = 0;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (EpochStats s : history) {
            if (s.validationLoss() < bestLoss) {
                bestLoss = s.validationLoss();
                best = s.epoch();
            }
        }
        return best;
    }

    /** Hands a copy of the state to the listeners that want it (checkpoints). */
    private void publishState(Network net, int epoch, int batch, double epochLoss, long epochCorrect,
                              Optimizer.State state, Best best) {
        TrainingState snapshot = null;
        for (TrainingListener l : listeners) {
            if (l.wantsState()) {
                if (snapshot == null) {
                    // a checkpoint must be a state worth resuming: an update can overflow before a loss does
                    for (float p : net.parameters()) {
                        if (!Float.isFinite(p)) {
                            throw new TrainingDivergedException("training diverged at epoch "
                                    + (batch == 0 ? epoch : epoch + 1) + (batch == 0 ? ", at its end" : ", batch " + batch)
                                    + ": a parameter is " + p + "; try a smaller learning rate (the last checkpoint "
                                    + "is kept)");
                        }
                    }
                    snapshot = new TrainingState(epoch, batch, epochLoss, epochCorrect, net.parameters().clone(),
                            state.steps, copy(state.buffers()), best == null ? null : best.parameters.clone(),
                            best == null ? 0 : best.epoch, best == null ? Double.POSITIVE_INFINITY : best.loss);
                }
                l.onState(snapshot);
            }
        }
    }

    private static float[][] copy(float[][] arrays) {
        float[][] c = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            c[i] = arrays[i].clone();
        }
        return c;
    }

    /**
     * The shard size this trainer uses for batches of {@code batch} samples.
     *
     * @param batch a batch size
     * @return rows per shard
     */
    public int shardSize(int batch) {
        return shardSize > 0 ? shardSize : defaultShardSize(batch);
    }

    /** Largest shard by default: its workspace (about 2.5 KB a row for 784-512-256-10) stays near L2's size. */
    static final int MAX_DEFAULT_SHARD = 256;

    /**
     * The shard size when none is set: the whole batch, up to {@value #MAX_DEFAULT_SHARD} rows.
     * All threads share each shard's matrix products (see {@link Step}), so a shard needs no
     * minimum size to keep them busy, and a batch that is one shard needs no gradient buffers to
     * add up. It depends on the batch only, never on the thread count, so results do not change
     * with threads.
     */
    static int defaultShardSize(int batch) {
        return Math.min(batch, MAX_DEFAULT_SHARD);
    }

    /**
     * Mean loss, accuracy and confusion matrix of {@code net} on {@code data}, using all cores.
     *
     * @param net the network
     * @param data the rows to evaluate it on
     * @return the figures
     */
    public static Evaluation evaluate(Network net, Dataset data) {
        checkShapes(net, data);
        try (Parallel parallel = new Parallel(Runtime.getRuntime().availableProcessors())) {
            return evaluate(net, data, parallel);
        }
    }

    private static Evaluation evaluate(Network net, Dataset data, Parallel parallel) {
        return new Evaluator(net, data, parallel.threads()).run(parallel);
    }

    private static void checkShapes(Network net, Dataset data) {
        if (data.featureCount() != net.inputs()) {
            throw new IllegalArgumentException(data.name() + " has " + data.featureCount()
                    + " features per row but the network takes " + net.inputs() + " inputs");
        }
        if (data.targetWidth() != net.outputs()) {
            throw new IllegalArgumentException(data.name() + " has " + data.targetWidth()
                    + (data.isClassification() ? " classes" : " targets") + " but the network has "
                    + net.outputs() + " outputs");
        }
        if (data.size() == 0) {
            throw new IllegalArgumentException(data.name() + " has no rows");
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Settings of a {@link Trainer}; each setter checks its value. */
    public static final class Builder {
        private Builder() {
        }

        private int epochs = 10;
        private int batchSize = 64;
        private int shardSize = 0;
        private Optimizer optimizer = Optimizer.sgd(0.1);
        private Schedule schedule = Schedule.CONSTANT;
        private long seed = 1;
        private int threads = Runtime.getRuntime().availableProcessors();
        private boolean updateBiases = true;
        private int patience = 0;
        private double clipNorm = 0;
        private TrainingState resumeFrom;
        private int checkpointEvery;
        private final List<TrainingListener> listeners = new ArrayList<>();
        private GradientSource gradientSource;
        private StepProfile profile;

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
