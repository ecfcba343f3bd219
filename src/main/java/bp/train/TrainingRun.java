package bp.train;

import bp.data.Dataset;
import bp.kernel.Parallel;
import bp.nn.Network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A training run in progress: bp's one epoch loop. {@link Trainer#fit} drives a run to its end;
 * code that trains a step at a time (the playground, an application's own loop) gets one from
 * {@link Trainer#start} and calls {@link #step()}.
 *
 * <p>Each epoch trains the batches of its order (a shuffle that depends only on the seed and the epoch) with the run's
 * {@link TrainingStep}, then evaluates, tells the listeners, watches early stopping and hands the
 * state to checkpoints. Closing the run releases its threads.
 *
 * <pre>{@code
 * try (TrainingRun run = trainer.start(net, train, null, test)) {
 *     while (!run.finished()) {
 *         EpochStats end = run.step();   // null unless this step ended an epoch
 *     }
 * }
 * }</pre>
 */
public final class TrainingRun implements AutoCloseable {

    private final Trainer trainer;
    private final Trainer.Builder settings;
    private final Network net;
    private final Rows train;
    private final Rows validation;
    private final Rows test;
    /** The rows in the order of this epoch; null when they are not in this JVM (the step orders them). */
    private final List<TrainingListener> listeners;
    private final int batch;
    private final int batches;
    private final int[] order;
    private final Parallel parallel;
    private final Optimizer.State state;
    private final EarlyStopping best;
    private GradientSource.Run remote;
    private TrainingStep step;
    private final StepProfile profile;
    /** The validation and the test set's evaluators, kept from epoch to epoch with their workspaces. */
    private final Evaluator[] evaluators = new Evaluator[2];

    private int epoch;
    /** The next batch of the epoch, from 0. */
    private int nextBatch;
    private boolean inEpoch;
    private double epochLoss;
    private long epochCorrect;
    private long epochStart;
    private double lr;
    private long steps;
    private boolean finished;

    TrainingRun(Trainer trainer, Network net, Rows train, Rows validation, Rows test) {
        for (Rows d : new Rows[] {train, validation, test}) {
            if (d != null) {
                checkShapes(net, d);
            }
        }
        this.trainer = trainer;
        this.settings = trainer.settings;
        if (settings.patience > 0 && validation == null) {
            throw new IllegalArgumentException("early stopping (patience " + settings.patience
                    + ") needs a validation set");
        }
        this.net = net;
        this.train = train;
        this.validation = validation;
        this.test = test;
        this.listeners = List.copyOf(settings.listeners);
        this.profile = settings.profile;
        long n = train.size();
        this.batch = (int) Math.min(trainer.batchSize(), n);
        this.batches = Math.toIntExact((n + batch - 1) / batch);
        this.order = train.local() == null ? null : new int[(int) n];
        this.state = trainer.optimizer().newState(net.parameterCount());
        this.best = settings.patience > 0 ? new EarlyStopping(net.parameters(), settings.patience) : null;
        this.epoch = 1;
        TrainingState resumed = settings.resumeFrom;
        if (resumed != null) {
            resume(resumed);
        }
        this.parallel = new Parallel(settings.threads);
        try {
            this.step = settings.steps != null ? settings.steps.start(net, train, order, state) : ownStep();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        if (order != null) {
            fillOrder(order, settings.seed, epoch);
        }
    }

    private TrainingStep ownStep() {
        if (train.local() == null) {
            throw new IllegalArgumentException(train.name() + " is not in this JVM: training on it needs a step "
                    + "of its own (Trainer.Builder.steps)");
        }
        int shard = trainer.shardSize(batch);
        if (settings.gradientSource != null) {
            remote = settings.gradientSource.start(net, train.local(), batch, shard);
        }
        return new Step(net, train.local(), order, state, settings.updateBiases, batch, shard, settings.clipNorm,
                parallel, remote, profile);
    }

    /** Puts the network, the optimizer and early stopping where a saved state left them. */
    private void resume(TrainingState r) {
        if (r.parameters().length != net.parameterCount()) {
            throw new IllegalArgumentException("the checkpoint has " + r.parameters().length
                    + " parameters, the network " + net.parameterCount());
        }
        if (r.epoch() >= settings.epochs || r.batch() < 0) {
            throw new IllegalArgumentException("the checkpoint is at epoch " + r.epoch() + " of " + settings.epochs
                    + ": nothing left to train");
        }
        System.arraycopy(r.parameters(), 0, net.parameters(), 0, r.parameters().length);
        net.parametersChanged();
        state.restore(r.optimizerSteps(), r.optimizerBuffers());
        if (best != null && r.bestParameters() != null) {
            best.restore(r.bestParameters(), r.bestEpoch(), r.bestLoss());
        }
        epoch = r.epoch() + 1;
        nextBatch = r.batch();
        epochLoss = r.epochLoss();
        epochCorrect = r.epochCorrect();
    }

    /**
     * Trains the next batch; after the last batch of an epoch, also ends the epoch (evaluation,
     * listeners, early stopping, checkpoints).
     *
     * @return the epoch's figures when this step ended an epoch, else null
     * @throws TrainingDivergedException when the batch's loss is NaN or infinite (the network's
     *                                   parameters are then unusable)
     * @throws IllegalStateException when the run has {@link #finished()}
     */
    public EpochStats step() {
        if (finished) {
            throw new IllegalStateException("the run has finished: its " + settings.epochs + " epochs are trained");
        }
        if (!inEpoch) {
            beginEpoch();
        }
        long from = (long) nextBatch * batch;
        int size = (int) Math.min(batch, train.size() - from);
        long stepStart = profile == null ? 0 : System.nanoTime();
        double loss = step.train(epoch, from, size, lr);
        if (profile != null) {
            profile.step(System.nanoTime() - stepStart);
        }
        if (!Double.isFinite(loss)) {
            throw new TrainingDivergedException("training diverged at epoch " + epoch + ", batch "
                    + (nextBatch + 1) + " of " + batches + ": the loss is " + loss
                    + "; try a smaller learning rate (now " + lr + ")");
        }
        epochCorrect += step.correct();
        epochLoss += loss;
        steps++;
        nextBatch++;
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).onBatchEnd(epoch, nextBatch, batches, loss / size);
        }
        if (nextBatch < batches) {
            int every = settings.checkpointEvery;
            if (every > 0 && nextBatch % every == 0) {
                publishState(epoch - 1, nextBatch);
            }
            return null;
        }
        return endEpoch();
    }

    /**
     * Trains the rest of the run, as {@link Trainer#fit} does.
     *
     * @return the figures of the epochs it ended
     */
    public List<EpochStats> toEnd() {
        List<EpochStats> history = new ArrayList<>();
        while (!finished) {
            EpochStats end = step();
            if (end != null) {
                history.add(end);
            }
        }
        return history;
    }

    private void beginEpoch() {
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).onEpochStart(epoch, batches);
        }
        epochStart = System.nanoTime();
        lr = trainer.optimizer().learningRate() * settings.schedule.factor(epoch - 1, settings.epochs);
        inEpoch = true;
    }

    private EpochStats endEpoch() {
        long n = train.size();
        double seconds = (System.nanoTime() - epochStart) / 1e9;
        Evaluation val = validation == null ? null : evaluate(validation);
        Evaluation eval = test == null ? null : evaluate(test);
        EpochStats stats = new EpochStats(epoch, epochLoss / n,
                train.isClassification() ? (double) epochCorrect / n : Double.NaN,
                val == null ? Double.NaN : val.loss(), val == null ? Double.NaN : val.accuracy(),
                eval == null ? Double.NaN : eval.loss(), eval == null ? Double.NaN : eval.accuracy(),
                seconds, n / seconds);
        for (TrainingListener l : listeners) {
            l.onEpochEnd(stats);
        }
        boolean stop = best != null && best.stopsAfter(epoch, val.loss(), net.parameters());
        epochLoss = 0;
        epochCorrect = 0;
        nextBatch = 0;
        inEpoch = false;
        publishState(epoch, 0);
        epoch++;
        if (stop || epoch > settings.epochs) {
            finish();
        } else if (order != null) {
            fillOrder(order, settings.seed, epoch);
        }
        return stats;
    }

    /** Rows in this JVM are evaluated on the run's threads, others where they are. */
    private Evaluation evaluate(Rows rows) {
        Dataset data = rows.local();
        if (data == null) {
            return rows.evaluate(net);
        }
        int e = rows == validation ? 0 : 1;
        if (evaluators[e] == null) {
            evaluators[e] = new Evaluator(net, data, parallel.threads());
        }
        return evaluators[e].run(parallel);
    }

    /** The end of the run: with early stopping, the network takes its best epoch's weights. */
    private void finish() {
        finished = true;
        if (best != null) {
            best.restoreInto(net);
        }
    }

    /** Hands a copy of the state to the listeners that want it (checkpoints). */
    private void publishState(int doneEpochs, int doneBatches) {
        TrainingState snapshot = null;
        for (TrainingListener l : listeners) {
            if (l.wantsState()) {
                if (snapshot == null) {
                    checkFinite(doneEpochs, doneBatches);
                    snapshot = new TrainingState(doneEpochs, doneBatches, epochLoss, epochCorrect,
                            net.parameters().clone(), state.steps, state.copyOfBuffers(),
                            best == null ? null : best.parameters(), best == null ? 0 : best.epoch(),
                            best == null ? Double.POSITIVE_INFINITY : best.loss());
                }
                l.onState(snapshot);
            }
        }
    }

    /** A checkpoint must be a state worth resuming: an update can overflow before a loss does. */
    private void checkFinite(int doneEpochs, int doneBatches) {
        for (float p : net.parameters()) {
            if (!Float.isFinite(p)) {
                throw new TrainingDivergedException("training diverged at epoch "
                        + (doneBatches == 0 ? doneEpochs + ", at its end" : doneEpochs + 1 + ", batch " + doneBatches)
                        + ": a parameter is " + p + "; try a smaller learning rate (the last checkpoint is kept)");
            }
        }
    }

    /** {@return whether every epoch has been trained, or early stopping ended the run} */
    public boolean finished() {
        return finished;
    }

    /** {@return the epoch the next step belongs to, from 1} */
    public int epoch() {
        return epoch;
    }

    /** {@return the batches trained so far, over all epochs of this run} */
    public long steps() {
        return steps;
    }

    /** {@return the index in the training set of the next batch's first row (rows in this JVM only)} */
    public int nextRow() {
        if (order == null) {
            throw new IllegalStateException(train.name() + " is not in this JVM: its order is the step's");
        }
        return order[nextBatch * batch];
    }

    /** Stops the run's worker threads and its gradient source; the network keeps its parameters. */
    @Override
    public void close() {
        try {
            if (step != null) {
                step.close();
            }
        } finally {
            try {
                if (remote != null) {
                    remote.close();
                }
            } finally {
                parallel.close();
            }
        }
    }

    /** Epoch {@code epoch}'s order depends only on the seed and the epoch, so a resumed run repeats it. */
    private static void fillOrder(int[] order, long seed, int epoch) {
        Arrays.setAll(order, i -> i);
        Dataset.shuffle(order, new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch));
    }

    static void checkShapes(Network net, Rows data) {
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
}
