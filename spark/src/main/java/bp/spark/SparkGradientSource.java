package bp.spark;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.nn.Network;
import bp.train.GradientSource;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Synchronous data-parallel training on Spark, the way MLlib's MLP trains: every step broadcasts
 * the parameters, each of {@code places} tasks computes the gradient of its part of the global
 * mini-batch with bp's kernels (its groups in parallel on the executor's cores), and the driver
 * adds the parts and applies the optimizer. The parts are aligned blocks of {@link BatchGradient}'s
 * groups, collected and added in the same fixed tree as on one machine, so the model is
 * bit-for-bit the local trainer's whenever the executors use the same kernels (see the README).
 * The training set is broadcast once per run; each task gathers its rows from the epoch's order.
 */
public final class SparkGradientSource implements GradientSource {

    private final JavaSparkContext spark;
    private final int places;

    /** Splits every mini-batch into at most {@code places} tasks (e.g. the executors' total cores). */
    public SparkGradientSource(JavaSparkContext spark, int places) {
        if (places < 1) {
            throw new IllegalArgumentException("places must be at least 1, not " + places);
        }
        this.spark = spark;
        this.places = places;
    }

    @Override
    public Run start(Network net, Dataset train, int batch, int shard) {
        Broadcast<TrainingData> data = spark.broadcast(TrainingData.of(train));
        Architecture architecture = Architecture.of(net);
        return new Run() {
            @Override
            public Result gradient(Network current, int[] order, int from, int size, float[][] partials) {
                int used = BatchGradient.groupsUsed(size, batch, shard);
                int perBlock = BatchGradient.blockSize(used, places);
                // the rows of this batch only, renumbered from 0: tasks need not see the whole order
                int[] rows = java.util.Arrays.copyOfRange(order, from, from + size);
                Broadcast<float[]> parameters = spark.broadcast(current.parameters().clone());
                List<Task> tasks = new ArrayList<>();
                for (int g0 = 0; g0 < used; g0 += perBlock) {
                    tasks.add(new Task(g0, Math.min(used, g0 + perBlock)));
                }
                List<Part> parts = spark.parallelize(tasks, tasks.size())
                        .map(task -> task.run(data.value().cached(), architecture, parameters.value(), rows, batch, shard))
                        .collect();
                parameters.destroy();
                double[] losses = new double[used];
                long correct = 0;
                for (int b = 0; b < parts.size(); b++) {
                    Part p = parts.get(b); // collect() keeps the order of the tasks
                    System.arraycopy(p.gradient, 0, partials[b], 0, p.gradient.length);
                    System.arraycopy(p.groupLosses, 0, losses, tasks.get(b).g0, p.groupLosses.length);
                    correct += p.correct;
                }
                return new Result(parts.size(), losses, correct);
            }

            @Override
            public void close() {
                data.destroy();
            }
        };
    }

    /** Groups {@code [g0, g1)} of a batch: one Spark task. */
    record Task(int g0, int g1) implements Serializable {
        Part run(Dataset data, Architecture architecture, float[] parameters, int[] rows, int batch, int shard) {
            Network net = architecture.build(parameters);
            float[] gradient = new float[net.parameterCount()];
            double[] losses = new double[g1 - g0];
            long correct = BatchGradient.block(net, data, rows, 0, rows.length, batch, shard, g0, g1, gradient, losses);
            return new Part(gradient, losses, correct);
        }
    }

    /** A task's result: its block's gradient sum, each group's loss, the rows it classified correctly. */
    record Part(float[] gradient, double[] groupLosses, long correct) implements Serializable {
    }
}
