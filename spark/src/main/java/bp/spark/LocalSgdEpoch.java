package bp.spark;

import bp.engine.BatchGradient;
import bp.engine.Workspace;
import bp.nn.Network;
import bp.train.Optimizer;

import java.util.List;

/**
 * Local SGD's epoch on one task. A round: every shard trains the round's model on K mini-batches
 * of its own rows with the round's optimizer state, then the shards' models and optimizer buffers
 * are averaged, weighted by the rows each trained (as Deeplearning4j's parameter averaging does
 * with its updater), and the average starts the next round. The optimizer therefore carries its
 * momentum or moments from round to round, and a round costs one exchange between the tasks, not a
 * Spark job.
 */
final class LocalSgdEpoch extends EpochTask {

    /** The average: where every round starts, what the epoch ends with. */
    private final Network model;
    private final Optimizer.State modelState;
    /** A shard's model during a round (a task's shards train one after another). */
    private final Network scratch;
    private final Optimizer.State scratchState;
    private final int passRows;
    private final Workspace ws;
    private final float[] grad;
    /** Each of my shards' parameters and optimizer buffers, one after another, weighted. */
    private final float[][] vectors;
    /** Their average over all shards, when the exchange does not leave it in one of the vectors. */
    private final float[] average;
    private final float[][] averageBuffers;

    LocalSgdEpoch(MeshTraining.Setup s, MeshTraining.EpochState start, List<RowBlock> train, List<RowBlock> test,
                  int me, String halt) {
        super(s, start, train, test, me, halt);
        this.model = s.architecture().build(start.parameters().clone());
        this.modelState = optimizer.newState(model.parameterCount());
        modelState.restore(start.steps(), start.buffers());
        this.scratch = s.architecture().build(start.parameters().clone());
        this.scratchState = optimizer.newState(model.parameterCount());
        this.passRows = BatchGradient.defaultShardSize(s.batch());
        this.ws = new Workspace(model, passRows);
        int p = model.parameterCount();
        this.grad = new float[p];
        this.averageBuffers = modelState.copyOfBuffers();
        this.average = new float[p * (1 + averageBuffers.length)];
        this.vectors = new float[mine.size()][average.length];
    }

    @Override
    int exchangedFloats() {
        return average.length;
    }

    @Override
    Network model() {
        return model;
    }

    @Override
    MeshTraining.EpochState train() {
        int batch = s.batch();
        int perRound = batch * s.syncEvery();
        int[] roundRows = new int[s.shardRows().length];
        int[] correct = new int[1];
        double loss = lossBefore;
        long right = correctBefore;
        int rounds = exchanges(perRound);
        for (int round = from; round < rounds; round++) {
            haltIfAsked(round);
            int firstRow = round * perRound;
            shardRows(firstRow, perRound, roundRows);
            long total = 0;
            int steps = 0;
            for (int n : roundRows) {
                total += n;
                steps = Math.max(steps, (n + batch - 1) / batch);
            }
            for (int i = 0; i < mine.size(); i++) {
                int shard = mine.get(i).partition();
                int n = roundRows[shard];
                if (n > 0) {
                    startRound();
                    correct[0] = 0;
                    double shardLoss = 0;
                    for (int b = 0; b < n; b += batch) {
                        int rows = Math.min(batch, n - b);
                        shardLoss += gradient(scratch, ws, passRows, i, firstRow + b, rows, grad, correct);
                        scratchState.step(scratch, grad, rows, learningRate, true);
                    }
                    weighted((float) ((double) n / total), vectors[i]);
                    exchange.send(shard, vectors[i], average.length, n, shardLoss, correct[0]);
                }
            }
            ShardSum.Totals t = exchange.sum(roundRows, average.length, average);
            endRound(t.sum(), modelState.steps() + steps);
            loss += t.loss();
            right += t.correct();
            checkpointIfDue(round + 1, rounds, model, modelState, loss, right);
        }
        return new MeshTraining.EpochState(model.parameters(), modelState.steps(), modelState.buffers(), epoch, rounds,
                loss, right);
    }

    /** A shard starts the round from the model and its optimizer state. */
    private void startRound() {
        System.arraycopy(model.parameters(), 0, scratch.parameters(), 0, model.parameterCount());
        scratch.parametersChanged();
        scratchState.restore(modelState.steps(), modelState.buffers());
    }

    /** The shard's parameters and buffers, times its weight in the average, into {@code vector}. */
    private void weighted(float weight, float[] vector) {
        int p = scratch.parameterCount();
        scale(scratch.parameters(), weight, vector, 0);
        float[][] buffers = scratchState.buffers();
        for (int b = 0; b < buffers.length; b++) {
            scale(buffers[b], weight, vector, p * (b + 1));
        }
    }

    private static void scale(float[] values, float weight, float[] vector, int at) {
        for (int j = 0; j < values.length; j++) {
            vector[at + j] = values[j] * weight;
        }
    }

    /** The average ({@code sum}) becomes the model; its step count is the most steps a shard took. */
    private void endRound(float[] sum, long steps) {
        int p = model.parameterCount();
        System.arraycopy(sum, 0, model.parameters(), 0, p);
        model.parametersChanged();
        for (int b = 0; b < averageBuffers.length; b++) {
            System.arraycopy(sum, p * (b + 1), averageBuffers[b], 0, p);
        }
        modelState.restore(steps, averageBuffers);
    }
}
