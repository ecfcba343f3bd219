package bp.train;

import bp.data.Dataset;
import bp.kernel.Kernels;
import bp.nn.Activation;
import bp.nn.Network;
import bp.nn.TransposedWeights;
import bp.nn.Workspace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Mini-batch gradient descent by backpropagation.
 *
 * <p>Each epoch shuffles the training set (from the seed) and cuts it into batches of
 * {@code batchSize} samples. A batch is cut into shards of {@code shardSize} samples; consecutive
 * shards form at most {@value BatchGradient#MAX_GROUPS} groups, each computed as a task on the ForkJoin pool with
 * its own workspace and gradient buffer; the group gradients are then summed in a fixed binary-tree
 * order and one update is applied. None of this depends on the number of threads, so a run's result
 * is bit-for-bit the same for 1 or 64 threads. Batch size 1 is online learning, batch size ≥ the
 * training set size is full-batch learning.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().epochs(10).batchSize(128).optimizer(Optimizer.adam(1e-3)).build();
 * List<EpochStats> history = trainer.fit(net, train, test);
 * }</pre>
 */
public final class Trainer {

    /** Rows (units) of a layer per update task: a block's weights, gradients and state stay in L2. */
    private static final int ROWS_PER_BLOCK = 64;

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

    private Trainer(Builder b) {
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

    public static Builder builder() {
        return new Builder();
    }

    public int epochs() {
        return epochs;
    }

    /** Samples per update as set (a batch larger than the training set is the whole set). */
    public int batchSize() {
        return batchSize;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public Schedule schedule() {
        return schedule;
    }

    public long seed() {
        return seed;
    }

    public List<TrainingListener> listeners() {
        return listeners;
    }

    /**
     * The training order of epoch {@code epoch} (1-based) for {@code n} rows: it depends only on the
     * seed and the epoch, so a resumed run, or a training loop of one's own, repeats it.
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
     */
    public List<EpochStats> fit(Network net, Dataset train, Dataset test) {
        return fit(net, train, null, test);
    }

    /**
     * As {@link #fit(Network, Dataset, Dataset)}, also evaluating {@code validation} (may be null)
     * after each epoch. With a {@link Builder#patience patience} of N, training stops when the
     * validation loss has not improved for N epochs, and the network is left with the weights of
     * its best epoch ({@link #bestEpoch}).
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
            return parallel.call(() -> epochs(net, train, validation, test, order, batch, shard, parallel, remote));
        }
    }

    private List<EpochStats> epochs(Network net, Dataset train, Dataset validation, Dataset test, int[] order,
                                    int batch, int shard, Parallel parallel, GradientSource.Run remote) {
        float[] best = patience > 0 ? net.parameters().clone() : null;
        int bestEpoch = 0;
        double bestLoss = Double.POSITIVE_INFINITY;
        int firstEpoch = 1;
        int firstBatch = 0;
        double resumedLoss = 0;
        long resumedCorrect = 0;
        int n = train.size();
        int batches = ceilDiv(n, batch);
        Optimizer.State state = optimizer.newState(net.parameterCount());
        if (resumeFrom != null) {
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
                System.arraycopy(r.bestParameters(), 0, best, 0, best.length);
                bestEpoch = r.bestEpoch();
                bestLoss = r.bestLoss();
            }
            firstEpoch = r.epoch() + 1;
            firstBatch = r.batch();
            resumedLoss = r.epochLoss();
            resumedCorrect = r.epochCorrect();
        }
        List<EpochStats> history = new ArrayList<>();
        Step step = new Step(net, train, order, batch, shard, clipNorm, parallel, remote);
        for (int epoch = firstEpoch; epoch <= epochs; epoch++) {
            for (int i = 0; i < listeners.size(); i++) {
                listeners.get(i).onEpochStart(epoch, batches);
            }
            long start = System.nanoTime();
            double lr = optimizer.learningRate() * schedule.factor(epoch - 1, epochs);
            fillEpochOrder(order, epoch);
            double lossSum = epoch == firstEpoch ? resumedLoss : 0;
            long correct = epoch == firstEpoch ? resumedCorrect : 0;
            for (int b = epoch == firstEpoch ? firstBatch : 0; b < batches; b++) {
                int from = b * batch;
                int size = Math.min(batch, n - from);
                double batchLoss = step.gradient(from, size);
                if (!Double.isFinite(batchLoss)) {
                    throw new TrainingDivergedException("training diverged at epoch " + epoch + ", batch "
                            + (b + 1) + " of " + batches + ": the loss is " + batchLoss
                            + "; try a smaller learning rate (now " + lr + ")");
                }
                correct += step.correct;
                step.update(state, size, lr, updateBiases);
                lossSum += batchLoss;
                for (int i = 0; i < listeners.size(); i++) {
                    listeners.get(i).onBatchEnd(epoch, b + 1, batches, batchLoss / size);
                }
                if (checkpointEvery > 0 && (b + 1) % checkpointEvery == 0 && b + 1 < batches) {
                    publishState(net, epoch - 1, b + 1, lossSum, correct, state, best, bestEpoch, bestLoss);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Evaluation val = validation == null ? null : evaluate(net, validation, parallel);
            Evaluation eval = test == null ? null : evaluate(net, test, parallel);
            EpochStats stats = new EpochStats(epoch, lossSum / n,
                    train.isClassification() ? (double) correct / n : Double.NaN,
                    val == null ? Double.NaN : val.loss(), val == null ? Double.NaN : val.accuracy(),
                    eval == null ? Double.NaN : eval.loss(), eval == null ? Double.NaN : eval.accuracy(),
                    seconds, n / seconds);
            history.add(stats);
            for (TrainingListener l : listeners) {
                l.onEpochEnd(stats);
            }
            boolean stop = false;
            if (best != null) {
                if (val.loss() < bestLoss) {
                    bestLoss = val.loss();
                    bestEpoch = epoch;
                    System.arraycopy(net.parameters(), 0, best, 0, best.length);
                } else if (epoch - bestEpoch >= patience) {
                    stop = true;
                }
            }
            publishState(net, epoch, 0, 0, 0, state, best, bestEpoch, bestLoss);
            if (stop) {
                break;
            }
        }
        if (best != null) {
            System.arraycopy(best, 0, net.parameters(), 0, best.length);
            net.parametersChanged();
        }
        return history;
    }

    /**
     * The epoch early stopping keeps: the first with the lowest validation loss (0 when the history
     * has no validation figures).
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
                              Optimizer.State state, float[] best, int bestEpoch, double bestLoss) {
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
                            state.steps, copy(state.buffers()), best == null ? null : best.clone(), bestEpoch, bestLoss);
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

    /** The shard size this trainer uses for batches of {@code batch} samples. */
    public int shardSize(int batch) {
        return shardSize > 0 ? shardSize : defaultShardSize(batch);
    }

    /**
     * The shard size when none is set: half the batch, so that two cores share it, but at least 32
     * rows (smaller shards spend more time writing their own gradient buffer than computing, so a
     * batch of 32 is one shard) and at most 64 (bigger ones stop paying); measured with
     * bp bench train. It depends on the batch only, never on the thread count, so results do not
     * change with threads.
     */
    static int defaultShardSize(int batch) {
        return Math.min(batch, Math.min(64, Math.max(32, ceilDiv(batch, 2))));
    }

    /**
     * The gradient of one mini-batch: the batch is cut into shards of a fixed size, consecutive shards
     * form at most {@link BatchGradient#MAX_GROUPS} groups, each group runs as one ForkJoin task with its own
     * workspace and gradient buffer, and the group gradients are summed in a fixed binary tree. All
     * buffers and tasks are made once, so a step allocates nothing.
     */
    private static final class Step {
        final Network net;
        final Dataset data;
        final int[] order;
        final int shard;
        final int groups;
        final Workspace[] workspaces;
        final float[][] grads;
        final double[] groupLoss;
        final int[] groupCorrect;
        final Parallel parallel;
        final Parallel.Job shardJob;
        final Parallel.Job updateJob;
        final Parallel.Job sumJob;
        final Parallel.Job applyJob;
        /** Largest L2 norm of the mean gradient, 0 for no clipping. */
        final double clipNorm;
        final double[] blockSquares;
        /** The update's tasks: blocks of {@link #ROWS_PER_BLOCK} rows (units) of one layer. */
        final int[] blockLayer;
        final int[] blockRow;
        /** Shards of a few rows go faster as dot products than through transposed weights refreshed every step. */
        final TransposedWeights transposed;
        /** Small batches update on the calling thread (see {@link #run}). */
        final boolean parallelUpdate;
        /** Where the gradients come from when not from this pool; null for here. */
        final GradientSource.Run remote;
        // inputs of the current run of a job
        int from;
        int size;
        int shards;
        int used;
        Optimizer.State state;
        float scale;
        double lr;
        boolean updateBiases;
        // output of gradient(): correctly classified samples of the batch
        long correct;

        Step(Network net, Dataset data, int[] order, int batch, int shard, double clipNorm, Parallel parallel,
             GradientSource.Run remote) {
            this.remote = remote;
            this.net = net;
            this.data = data;
            this.order = order;
            this.shard = shard;
            this.groups = BatchGradient.groups(batch, shard);
            this.workspaces = new Workspace[groups];
            this.grads = new float[groups][];
            for (int g = 0; g < groups; g++) {
                // a remote source fills the gradient buffers; only the local groups need workspaces
                workspaces[g] = remote == null ? new Workspace(net, Math.min(shard, batch)) : null;
                grads[g] = new float[net.parameterCount()];
            }
            this.groupLoss = new double[groups];
            this.groupCorrect = new int[groups];
            this.parallel = parallel;
            this.parallelUpdate = BatchGradient.usesTransposedWeights(batch);
            this.transposed = parallelUpdate && remote == null ? new TransposedWeights(net) : null;
            this.shardJob = parallel.job(this::runGroup);
            int blocks = 0;
            for (int l = 0; l < net.layerCount(); l++) {
                blocks += ceilDiv(net.weightRows(l), ROWS_PER_BLOCK);
            }
            this.blockLayer = new int[blocks];
            this.blockRow = new int[blocks];
            for (int l = 0, t = 0; l < net.layerCount(); l++) {
                for (int r = 0; r < net.weightRows(l); r += ROWS_PER_BLOCK, t++) {
                    blockLayer[t] = l;
                    blockRow[t] = r;
                }
            }
            this.updateJob = parallel.job(this::updateBlock);
            this.sumJob = parallel.job(this::sumBlock);
            this.applyJob = parallel.job(this::applyBlock);
            this.clipNorm = clipNorm;
            this.blockSquares = new double[blocks];
        }

        /** Computes the gradient of rows {@code order[from, from+size)} into {@link #gradientSum()}; returns the summed loss. */
        double gradient(int from, int size) {
            if (remote != null) {
                GradientSource.Result r = remote.gradient(net, order, from, size, grads);
                used = r.blocks();
                correct = r.correct();
                double loss = 0;
                for (double l : r.groupLosses()) {
                    loss += l; // in group order, as below
                }
                return loss;
            }
            this.from = from;
            this.size = size;
            this.shards = ceilDiv(size, shard);
            this.used = Math.min(shards, groups);
            parallel.run(shardJob, used);
            double loss = 0;
            correct = 0;
            for (int g = 0; g < used; g++) {
                loss += groupLoss[g];
                correct += groupCorrect[g];
            }
            return loss;
        }

        /**
         * Applies the optimizer to the gradient of the last {@link #gradient} call, in one parallel
         * pass over blocks of rows: each task sums the groups' gradients for its rows, updates them
         * and refreshes their transposed copy while they are in cache.
         */
        void update(Optimizer.State state, int batch, double lr, boolean updateBiases) {
            this.state = state;
            this.lr = lr;
            this.updateBiases = updateBiases;
            this.scale = 1f / batch;
            state.begin();
            if (clipNorm > 0) {
                // the mean gradient's global L2 norm needs every block summed before any is applied
                run(sumJob);
                double squares = 0;
                for (double s : blockSquares) {
                    squares += s; // in block order: the same sum for any thread count
                }
                double norm = Math.sqrt(squares) / batch;
                if (norm > clipNorm) {
                    scale = (float) (clipNorm / (norm + 1e-6) / batch); // as PyTorch's clip_grad_norm_
                }
                run(applyJob);
            } else {
                run(updateJob);
            }
            net.parametersChanged();
        }

        /**
         * Small batches (online learning) update on this thread: waking the pool for each update
         * costs more than the update, measured with bp bench train --batch 1.
         */
        private void run(Parallel.Job job) {
            if (!parallelUpdate) {
                for (int t = 0; t < blockLayer.length; t++) {
                    job.body().accept(t);
                }
            } else {
                parallel.run(job, blockLayer.length);
            }
        }

        private void updateBlock(int t) {
            sumBlock(t);
            applyBlock(t);
        }

        /** Sums the groups' gradients for block t into grads[0], and with clipping its squares into blockSquares[t]. */
        private void sumBlock(int t) {
            int l = blockLayer[t];
            int r0 = blockRow[t];
            int r1 = Math.min(net.weightRows(l), r0 + ROWS_PER_BLOCK);
            int fanIn = net.size(l);
            int w = net.weightOffset(l) + r0 * fanIn;
            int b = net.biasOffset(l) + r0;
            // grads[0] = Σ grads[0..used) pairwise: (0+1)+(2+3), then those sums, etc. A fixed order.
            BatchGradient.treeSum(grads, used, w, (r1 - r0) * fanIn);
            BatchGradient.treeSum(grads, used, b, r1 - r0);
            int s = net.hasSlopes(l) ? net.slopeOffset(l) + r0 : -1;
            if (s >= 0) {
                BatchGradient.treeSum(grads, used, s, r1 - r0);
            }
            if (clipNorm > 0) {
                float[] g = grads[0];
                double squares = sumOfSquares(g, w, (r1 - r0) * fanIn) + sumOfSquares(g, b, r1 - r0);
                blockSquares[t] = s >= 0 ? squares + sumOfSquares(g, s, r1 - r0) : squares;
            }
        }

        private static double sumOfSquares(float[] g, int off, int len) {
            double squares = 0;
            for (int i = off; i < off + len; i++) {
                squares += (double) g[i] * g[i];
            }
            return squares;
        }

        /** Applies the optimizer to block t and refreshes its transposed copy. */
        private void applyBlock(int t) {
            int l = blockLayer[t];
            int r0 = blockRow[t];
            int r1 = Math.min(net.weightRows(l), r0 + ROWS_PER_BLOCK);
            state.applyRows(net, grads[0], scale, lr, updateBiases, l, r0, r1);
            if (transposed != null) {
                transposed.refreshRows(l, r0, r1);
            }
        }

        private void runGroup(int g) {
            groupCorrect[g] = 0;
            groupLoss[g] = BatchGradient.group(net, transposed, workspaces[g], data, order, from, size, shard, used, g,
                    grads[g], groupCorrect, g);
        }
    }

    /** Mean loss, accuracy and confusion matrix of {@code net} on {@code data}, using all cores. */
    public static Evaluation evaluate(Network net, Dataset data) {
        checkShapes(net, data);
        try (Parallel parallel = new Parallel(Runtime.getRuntime().availableProcessors())) {
            return evaluate(net, data, parallel);
        }
    }

    private static Evaluation evaluate(Network net, Dataset data, Parallel parallel) {
        TransposedWeights transposed = net.transposedWeights();
        int n = data.size();
        int chunk = 256;
        int parts = Math.min(ceilDiv(n, chunk), 4 * parallel.threads());
        double[] loss = new double[parts];
        int classes = net.outputs();
        int labels = Math.max(classes, 2);
        long[][][] confusion = new long[parts][labels][labels];
        // regression: per part and output, Σ(a−t)², Σ|a−t|, Σt, Σt²
        double[][][] residuals = data.isClassification() ? null : new double[parts][4][classes];
        // one sigmoid output on regression data is binary classification: threshold 0.5 on both sides
        boolean binary = !data.isClassification() && classes == 1
                && net.activation(net.layerCount() - 1) == Activation.SIGMOID;
        int[] identity = new int[n];
        Arrays.setAll(identity, i -> i);
        parallel.forEach(parts, part -> {
            Workspace ws = new Workspace(net, Math.min(chunk, n));
            int end = (int) ((long) n * (part + 1) / parts);
            for (int from = (int) ((long) n * part / parts); from < end; from += chunk) {
                int rows = Math.min(chunk, end - from);
                BatchGradient.gather(data, identity, from, rows, ws);
                ws.forward(net, transposed, rows);
                loss[part] += ws.loss(net, rows);
                if (data.isClassification()) {
                    float[] out = ws.output();
                    for (int r = 0; r < rows; r++) {
                        int best = 0;
                        for (int j = 1; j < classes; j++) {
                            if (out[r * classes + j] > out[r * classes + best]) {
                                best = j;
                            }
                        }
                        confusion[part][ws.labels()[r]][best]++;
                    }
                } else {
                    float[] out = ws.output();
                    float[] target = ws.target();
                    double[][] acc = residuals[part];
                    for (int i = 0; i < rows * classes; i++) {
                        int j = i % classes;
                        double e = (double) out[i] - target[i];
                        acc[0][j] += e * e;
                        acc[1][j] += Math.abs(e);
                        acc[2][j] += target[i];
                        acc[3][j] += (double) target[i] * target[i];
                        if (binary) {
                            confusion[part][target[i] >= 0.5f ? 1 : 0][out[i] >= 0.5f ? 1 : 0]++;
                        }
                    }
                }
            }
        });
        double total = 0;
        long[][] matrix = new long[labels][labels];
        long correct = 0;
        for (int part = 0; part < parts; part++) {
            total += loss[part];
            for (int a = 0; a < labels; a++) {
                for (int p = 0; p < labels; p++) {
                    matrix[a][p] += confusion[part][a][p];
                }
            }
        }
        for (int a = 0; a < labels; a++) {
            correct += matrix[a][a];
        }
        if (data.isClassification()) {
            return new Evaluation(n, total / n, (double) correct / n, matrix, Double.NaN, Double.NaN, Double.NaN);
        }
        double squares = 0;
        double absolute = 0;
        double r2 = 0;
        for (int j = 0; j < classes; j++) {
            double res = 0, abs = 0, sum = 0, sum2 = 0;
            for (int part = 0; part < parts; part++) {
                res += residuals[part][0][j];
                abs += residuals[part][1][j];
                sum += residuals[part][2][j];
                sum2 += residuals[part][3][j];
            }
            squares += res;
            absolute += abs;
            double totalSquares = sum2 - sum * sum / n;
            r2 += totalSquares > 0 ? 1 - res / totalSquares : Double.NaN;
        }
        return new Evaluation(n, total / n, binary ? (double) correct / n : Double.NaN, binary ? matrix : null,
                squares / ((double) n * classes), absolute / ((double) n * classes), r2 / classes);
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

        /**
         * Computes the mini-batch gradients with {@code source} (e.g. on Spark executors) instead of
         * this JVM's pool; the sum of its blocks, the update and everything else stay here.
         */
        public Builder gradientSource(GradientSource source) {
            this.gradientSource = source;
            return this;
        }

        public Builder epochs(int epochs) {
            this.epochs = positive("epochs", epochs);
            return this;
        }

        /** Samples per update: 1 is online learning, the training-set size (or more) full-batch. */
        public Builder batchSize(int batchSize) {
            this.batchSize = positive("batch size", batchSize);
            return this;
        }

        /** How the learning rate changes from epoch to epoch (default: constant). */
        public Builder schedule(Schedule schedule) {
            this.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        /**
         * Samples per parallel task; part of the result's definition (unlike the thread count).
         * Default: half the batch, within [32, 64] (see {@link Trainer#shardSize(int)}).
         */
        public Builder shardSize(int shardSize) {
            this.shardSize = positive("shard size", shardSize);
            return this;
        }

        /** How gradients update the parameters (default: plain SGD with learning rate 0.1). */
        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
            return this;
        }

        /** Seed of the per-epoch shuffling. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Worker threads; changes speed, never results. */
        public Builder threads(int threads) {
            this.threads = positive("threads", threads);
            return this;
        }

        /** False keeps biases at their initial values, as the lecture notes' worked example does. */
        public Builder updateBiases(boolean updateBiases) {
            this.updateBiases = updateBiases;
            return this;
        }

        /**
         * Early stopping: stop when the validation loss has not improved for {@code epochs} epochs
         * and restore the weights of the best epoch; 0 (the default) trains all epochs.
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
         */
        public Builder resumeFrom(TrainingState state) {
            this.resumeFrom = java.util.Objects.requireNonNull(state, "state");
            return this;
        }

        /**
         * Besides after every epoch, hand the state to {@link TrainingListener#onState} every
         * {@code batches} batches (0, the default: only after epochs).
         */
        public Builder stateEvery(int batches) {
            if (batches < 0) {
                throw new IllegalArgumentException("checkpoint interval must be 0 (epochs only) or more batches, not " + batches);
            }
            this.checkpointEvery = batches;
            return this;
        }

        public Builder listener(TrainingListener listener) {
            listeners.add(listener);
            return this;
        }

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
