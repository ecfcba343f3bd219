package bp.spark;

import bp.engine.Workspace;
import bp.nn.Network;
import bp.train.Optimizer;

import java.util.List;

/**
 * The all-reduce's epoch on one task: a step takes {@code ceil(batch / V)} rows of each of the V
 * shards; each task computes its shards' gradients, the tasks add them ({@link ShardSum}), and
 * every task applies the same optimizer to the same sum, so all hold the same parameters.
 */
final class SyncEpoch extends EpochTask {

    private final Network net;
    private final Optimizer.State state;
    private final int shardBatch;
    private final Workspace ws;
    /** Each of my shards' gradient: one array each, as the exchange adds them where they are. */
    private final float[][] grads;
    private final float[] sum;

    SyncEpoch(MeshTraining.Setup s, MeshTraining.EpochState start, List<RowBlock> train, List<RowBlock> test, int me,
              String halt) {
        super(s, start, train, test, me, halt);
        this.net = s.architecture().build(start.parameters().clone());
        this.state = optimizer.newState(net.parameterCount());
        state.restore(start.steps(), start.buffers());
        int shards = s.shardRows().length;
        this.shardBatch = (s.batch() + shards - 1) / shards;
        this.ws = new Workspace(net, shardBatch);
        this.grads = new float[mine.size()][net.parameterCount()];
        this.sum = new float[net.parameterCount()];
    }

    @Override
    int exchangedFloats() {
        return sum.length;
    }

    @Override
    Network model() {
        return net;
    }

    @Override
    MeshTraining.EpochState train() {
        int steps = exchanges(shardBatch);
        int[] stepRows = new int[s.shardRows().length];
        int[] correct = new int[1];
        double loss = lossBefore;
        long right = correctBefore;
        for (int step = from; step < steps; step++) {
            haltIfAsked(step);
            int firstRow = step * shardBatch;
            shardRows(firstRow, shardBatch, stepRows);
            for (int i = 0; i < mine.size(); i++) {
                int shard = mine.get(i).partition();
                int rows = stepRows[shard];
                if (rows > 0) {
                    correct[0] = 0;
                    double shardLoss = gradient(net, ws, rows, i, firstRow, rows, grads[i], correct);
                    exchange.send(shard, grads[i], sum.length, rows, shardLoss, correct[0]);
                }
            }
            ShardSum.Totals t = exchange.sum(stepRows, sum.length, sum);
            state.step(net, t.sum(), t.rows(), learningRate, true);
            loss += t.loss();
            right += t.correct();
            checkpointIfDue(step + 1, steps, net, state, loss, right);
        }
        return new MeshTraining.EpochState(net.parameters(), state.steps(), state.buffers(), epoch, steps, loss, right);
    }
}
