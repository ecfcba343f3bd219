package bp.spark;

import bp.data.Dataset;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.Trainer;
import bp.train.TrainingListener;
import bp.train.TrainingState;
import bp.train.TrainingStep;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * Local SGD on rows that stay in their partitions: one step of the epoch loop is a round in which
 * every partition's task takes up to K mini-batches of its own rows (in an order of its own for the
 * epoch), starting from the driver's parameters and optimizer state, and the driver then averages
 * both (the parameters and, as Deeplearning4j's parameter averaging does with its updater, the
 * optimizer's buffers), weighted by the rows each task trained. The optimizer therefore carries
 * its momentum or moments from round to round instead of starting afresh.
 */
final class PartitionedLocalSgd implements TrainingStep {

    /** What every task of a run needs besides its block; sent with each round's closure. */
    private record Setup(String name, int classes, Architecture architecture, int batch, int syncEvery, long seed)
            implements Serializable {
    }

    /** The round's starting point, broadcast: the parameters and the optimizer's state. */
    private record Start(float[] parameters, long steps, float[][] buffers, Optimizer optimizer)
            implements Serializable {
    }

    /** What a task sends back: its network and optimizer after the round, its summed loss and rows. */
    private record Result(float[] parameters, long steps, float[][] buffers, double lossSum, long correct, int rows)
            implements Serializable {
    }

    private final JavaSparkContext spark;
    private final ParquetRows rows;
    private final Network net;
    private final Optimizer optimizer;
    private final Optimizer.State state;
    private final Setup setup;
    private long correct;

    PartitionedLocalSgd(ParquetRows rows, Network net, Optimizer optimizer, Optimizer.State state, int batch,
                        int syncEvery, long seed) {
        this.spark = JavaSparkContext.fromSparkContext(rows.blocks().context());
        this.rows = rows;
        this.net = net;
        this.optimizer = optimizer;
        this.state = state;
        this.setup = new Setup(rows.name(), rows.classes(), Architecture.of(net), batch, syncEvery, seed);
    }

    /** Rows of a partition a round takes: K mini-batches. */
    private int rowsPerTask() {
        return setup.batch() * setup.syncEvery();
    }

    @Override
    public double train(int epoch, long from, int size, double lr) {
        int round = (int) (from / ((long) rowsPerTask() * rows.partitions()));
        // rows go to partitions by a hash, so their sizes differ a little: the epoch's last
        // round takes whatever rows a partition has left
        boolean last = from + size >= rows.size();
        Broadcast<Start> start = spark.broadcast(new Start(net.parameters().clone(), state.steps(),
                state.copyOfBuffers(), optimizer.withLearningRate(lr)));
        Setup s = setup;
        List<Result> results;
        try {
            // a partition with no rows left this epoch (or none at all) sends nothing
            results = rows.blocks().map(b -> round(b, s, start.value(), epoch, round, last)).collect().stream()
                    .filter(r -> r != null).toList();
        } finally {
            start.destroy();
        }
        average(results);
        double loss = 0;
        correct = 0;
        for (Result r : results) {
            loss += r.lossSum();
            correct += r.correct();
        }
        return loss;
    }

    @Override
    public long correct() {
        return correct;
    }

    /**
     * A task's round on its block: rows {@code [round·K·B, (round + 1)·K·B)} of the block's order
     * for the epoch (to its end in the epoch's last round).
     */
    private static Result round(RowBlock block, Setup s, Start start, int epoch, int round, boolean last) {
        int perTask = s.batch() * s.syncEvery();
        int from = round * perTask;
        if (block.rows() <= from) {
            return null; // this partition has trained all its rows this epoch
        }
        int[] order = block.epochOrder(s.seed(), epoch);
        int[] mine = Arrays.copyOfRange(order, from, last ? block.rows() : Math.min(block.rows(), from + perTask));
        Dataset data = block.dataset(s.name(), s.classes()).select(s.name(), mine);
        Network net = s.architecture().build(start.parameters().clone());
        TrainingState[] end = new TrainingState[1];
        TrainingListener keep = new TrainingListener() {
            @Override
            public boolean wantsState() {
                return true;
            }

            @Override
            public void onState(TrainingState state) {
                end[0] = state;
            }
        };
        EpochStats stats = Trainer.builder().epochs(1).batchSize(s.batch()).optimizer(start.optimizer())
                .seed(s.seed() + 31L * epoch + round).threads(1).listener(keep)
                .resumeFrom(new TrainingState(0, 0, 0, 0, net.parameters(), start.steps(), start.buffers(), null, 0,
                        Double.POSITIVE_INFINITY))
                .build().fit(net, data, null).get(0);
        long correct = Double.isNaN(stats.trainAccuracy()) ? 0 : Math.round(stats.trainAccuracy() * mine.length);
        return new Result(net.parameters(), end[0].optimizerSteps(), end[0].optimizerBuffers(),
                stats.trainLoss() * mine.length, correct, mine.length);
    }

    /** Parameters and optimizer buffers averaged over the tasks that trained, weighted by their rows, in task order. */
    private void average(List<Result> trained) {
        double total = 0;
        long steps = state.steps();
        for (Result r : trained) {
            total += r.rows();
            steps = Math.max(steps, r.steps());
        }
        averageInto(trained, Result::parameters, net.parameters(), total);
        float[][] buffers = state.copyOfBuffers();
        for (int b = 0; b < buffers.length; b++) {
            int index = b;
            averageInto(trained, r -> r.buffers()[index], buffers[b], total);
        }
        state.restore(steps, buffers);
        net.parametersChanged();
    }

    private static void averageInto(List<Result> results, java.util.function.Function<Result, float[]> values,
                                    float[] out, double total) {
        double[] sum = new double[out.length];
        for (Result r : results) {
            float[] v = values.apply(r);
            for (int i = 0; i < out.length; i++) {
                sum[i] += (double) r.rows() * v[i];
            }
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (sum[i] / total);
        }
    }
}
