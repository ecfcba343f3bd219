package bp.spark;

import bp.data.Dataset;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Evaluation;
import bp.train.Trainer;
import bp.train.TrainingListener;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Local SGD with periodic averaging: one Spark job per K mini-batch steps instead of one per step.
 * Each epoch's order (the local trainer's) is dealt round-robin to {@code places} tasks; in a round
 * each task trains its own copy of the network on its next K·batch rows with bp's {@link Trainer}
 * (its optimizer starting afresh), and the driver averages the copies, weighted by their rows.
 * Not the local trainer's bits, nor its arithmetic: the README measures what it trades for speed.
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
        Broadcast<TrainingData> data = spark.broadcast(TrainingData.of(train));
        Architecture architecture = Architecture.of(net);
        int n = train.size();
        int batch = Math.min(trainer.batchSize(), n);
        int rowsPerRound = syncEvery * batch;
        List<EpochStats> history = new ArrayList<>();
        try {
            for (int epoch = 1; epoch <= trainer.epochs(); epoch++) {
                long start = System.nanoTime();
                int[] order = trainer.epochOrder(epoch, n);
                int[][] dealt = deal(order);
                int rounds = (dealt[0].length + rowsPerRound - 1) / rowsPerRound;
                for (TrainingListener l : trainer.listeners()) {
                    l.onEpochStart(epoch, rounds);
                }
                double lr = trainer.optimizer().learningRate() * trainer.schedule().factor(epoch - 1, trainer.epochs());
                double lossSum = 0;
                long correct = 0;
                for (int round = 0; round < rounds; round++) {
                    List<Slice> slices = new ArrayList<>();
                    for (int p = 0; p < places; p++) {
                        int from = round * rowsPerRound;
                        if (from < dealt[p].length) {
                            int[] rows = Arrays.copyOfRange(dealt[p], from, Math.min(dealt[p].length, from + rowsPerRound));
                            slices.add(new Slice(rows, trainer.seed() * 31 + epoch * 1_000_003L + round * 131L + p));
                        }
                    }
                    Broadcast<float[]> parameters = spark.broadcast(net.parameters().clone());
                    Settings settings = new Settings(batch, trainer.optimizer().withLearningRate(lr));
                    List<Result> results = spark.parallelize(slices, slices.size())
                            .map(s -> s.train(data.value().cached(), architecture, parameters.value(), settings))
                            .collect();
                    parameters.destroy();
                    average(results, net.parameters());
                    net.parametersChanged();
                    double roundLoss = 0;
                    long roundRows = 0;
                    for (Result r : results) {
                        roundLoss += r.lossSum;
                        roundRows += r.rows;
                        correct += r.correct;
                    }
                    lossSum += roundLoss;
                    if (!Double.isFinite(roundLoss)) {
                        throw new bp.train.TrainingDivergedException("training diverged at epoch " + epoch + ", round "
                                + (round + 1) + " of " + rounds + ": the loss is " + roundLoss
                                + "; try a smaller learning rate (now " + lr + ")");
                    }
                    for (TrainingListener l : trainer.listeners()) {
                        l.onBatchEnd(epoch, round + 1, rounds, roundLoss / roundRows);
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Evaluation eval = test == null ? null : Trainer.evaluate(net, test);
                EpochStats stats = new EpochStats(epoch, lossSum / n,
                        train.isClassification() ? (double) correct / n : Double.NaN, Double.NaN, Double.NaN,
                        eval == null ? Double.NaN : eval.loss(), eval == null ? Double.NaN : eval.accuracy(),
                        seconds, n / seconds);
                history.add(stats);
                for (TrainingListener l : trainer.listeners()) {
                    l.onEpochEnd(stats);
                }
            }
        } finally {
            data.destroy();
        }
        return history;
    }

    /** The epoch's order dealt round-robin to the places: place p gets order[p], order[p + places], …. */
    private int[][] deal(int[] order) {
        int[][] dealt = new int[places][];
        for (int p = 0; p < places; p++) {
            int count = (order.length - p + places - 1) / places;
            dealt[p] = new int[Math.max(0, count)];
            for (int i = 0; i < dealt[p].length; i++) {
                dealt[p][i] = order[p + i * places];
            }
        }
        return dealt;
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
