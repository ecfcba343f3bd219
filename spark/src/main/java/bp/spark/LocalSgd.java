package bp.spark;

import bp.data.Dataset;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Trainer;
import bp.train.TrainingStep;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Local SGD with periodic averaging: one Spark job per K mini-batch steps instead of one per step.
 * It runs in the trainer's own epoch loop as a {@link TrainingStep} whose "batch" is a round of
 * {@code places × K} mini-batches of the epoch's order: the round's rows are dealt round-robin to
 * the tasks, each task trains its own copy of the network on its rows with bp's {@link Trainer}
 * (its optimizer starting afresh), and the driver averages the copies, weighted by their rows.
 * Listeners see one batch per round. Not the local trainer's bits, nor its arithmetic: the README
 * measures what it trades for speed.
 */
public final class LocalSgd {

    private final JavaSparkContext spark;
    private final int places;
    private final int syncEvery;

    public LocalSgd(JavaSparkContext spark, int places, int syncEvery) {
        if (places < 1 || syncEvery < 1) {
            throw new IllegalArgumentException("places and steps between averages must be at least 1, not "
                    + places + " and " + syncEvery);
        }
        this.spark = spark;
        this.places = places;
        this.syncEvery = syncEvery;
    }

    /** Trains {@code net} with the settings of {@code trainer} (epochs, batch, optimizer, schedule, seed, listeners). */
    public List<EpochStats> fit(Trainer trainer, Network net, Dataset train, Dataset test) {
        int batch = Math.min(trainer.batchSize(), train.size());
        int roundRows = (int) Math.min(Integer.MAX_VALUE, (long) places * syncEvery * batch);
        Trainer rounds = trainer.toBuilder().batchSize(roundRows)
                .steps((n, data, order, state) -> new Round(n, data.local(), order, batch, roundRows, trainer))
                .build();
        return rounds.fit(net, train, test);
    }

    /** The step of one run: a round of local steps on the executors, then the average. */
    private final class Round implements TrainingStep {
        private final Network net;
        private final Broadcast<TrainingData> data;
        private final Architecture architecture;
        private final int[] order;
        private final int batch;
        private final int roundRows;
        private final Trainer trainer;
        private long correct;

        Round(Network net, Dataset train, int[] order, int batch, int roundRows, Trainer trainer) {
            this.net = net;
            this.data = spark.broadcast(TrainingData.of(train));
            this.architecture = Architecture.of(net);
            this.order = order;
            this.batch = batch;
            this.roundRows = roundRows;
            this.trainer = trainer;
        }

        @Override
        public double train(int epoch, long from, int size, double lr) {
            int round = (int) (from / roundRows);
            List<Slice> slices = new ArrayList<>();
            for (int p = 0; p < places && p < size; p++) {
                int[] rows = new int[(size - p + places - 1) / places];
                for (int i = 0; i < rows.length; i++) {
                    rows[i] = order[(int) from + p + i * places];
                }
                slices.add(new Slice(rows, trainer.seed() * 31 + epoch * 1_000_003L + round * 131L + p));
            }
            Broadcast<float[]> parameters = spark.broadcast(net.parameters().clone());
            Settings settings = new Settings(batch, trainer.optimizer().withLearningRate(lr));
            Broadcast<TrainingData> rows = data; // the task's closure takes locals, not this step
            Architecture shape = architecture;
            List<Result> results = spark.parallelize(slices, slices.size())
                    .map(s -> s.train(rows.value().cached(), shape, parameters.value(), settings))
                    .collect();
            parameters.destroy();
            average(results, net.parameters());
            net.parametersChanged();
            double loss = 0;
            correct = 0;
            for (Result r : results) {
                loss += r.lossSum;
                correct += r.correct;
            }
            return loss;
        }

        @Override
        public long correct() {
            return correct;
        }

        @Override
        public void close() {
            data.destroy();
        }
    }

    /** {@code out = Σ rows_k · θ_k / Σ rows_k}, in task order, in double. */
    private static void average(List<Result> results, float[] out) {
        double total = 0;
        for (Result r : results) {
            total += r.rows;
        }
        for (int i = 0; i < out.length; i++) {
            double s = 0;
            for (Result r : results) {
                s += (double) r.rows * r.parameters[i];
            }
            out[i] = (float) (s / total);
        }
    }

    /** What every task of a round trains with (optimizers are serializable records). */
    record Settings(int batch, bp.train.Optimizer optimizer) implements Serializable {
    }

    /** A task's rows for one round and the seed of their order within it. */
    record Slice(int[] rows, long seed) implements Serializable {
        Result train(Dataset data, Architecture architecture, float[] parameters, Settings settings) {
            Network net = architecture.build(parameters);
            Dataset mine = data.select(data.name(), rows);
            EpochStats s = Trainer.builder().epochs(1).batchSize(settings.batch()).optimizer(settings.optimizer())
                    .seed(seed).build().fit(net, mine, null).get(0);
            long correct = Double.isNaN(s.trainAccuracy()) ? 0 : Math.round(s.trainAccuracy() * rows.length);
            return new Result(net.parameters(), s.trainLoss() * rows.length, correct, rows.length);
        }
    }

    /** A task's network after its steps, with its summed loss, correct rows and row count. */
    record Result(float[] parameters, double lossSum, long correct, int rows) implements Serializable {
    }
}
