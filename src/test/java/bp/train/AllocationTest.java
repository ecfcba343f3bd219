package bp.train;

import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Steady-state training allocates nothing per batch, on the calling thread or on the pool's workers. */
class AllocationTest {

    static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes allocated so far by all live threads (the training thread and the ForkJoin workers). */
    static long allocatedBytes() {
        long[] ids = THREADS.getAllThreadIds();
        long total = 0;
        for (long bytes : THREADS.getThreadAllocatedBytes(ids)) {
            total += Math.max(0, bytes);
        }
        return total;
    }

    static Dataset synthetic(int rows) {
        SplittableRandom rng = new SplittableRandom(5);
        float[] x = new float[rows * 20];
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < 20; j++) {
                x[r * 20 + j] = (float) rng.nextDouble(-1, 1);
            }
            labels[r] = x[r * 20] + x[r * 20 + 1] > 0 ? 1 : (x[r * 20 + 2] > 0 ? 2 : 0);
        }
        return Dataset.classification("synthetic", x, 20, labels, 3);
    }

    /**
     * 1000 batches per epoch; the quietest of the epochs after warm-up must allocate < 16 bytes per
     * batch. Warm-up is long (40 epochs) because until C2 has compiled a kernel, the Vector API
     * boxes every vector. On a loaded machine C2 can be seconds behind (batch 1 runs 40 epochs in
     * under a second), so when no epoch was quiet yet, training goes on, up to two minutes: a
     * kernel that still allocates then is a defect, not a slow compiler.
     */
    @ParameterizedTest(name = "batch {0}, {1} threads, {2} then {3}")
    @CsvSource({"1, 1, tanh, relu", "1, 2, tanh, relu", "4, 2, tanh, relu", "16, 1, tanh, relu", "16, 2, tanh, relu", "64, 2, tanh, relu",
            "1, 1, prelu, maxout:3", "16, 2, prelu, maxout:3"})
    void stepsAllocateNothing(int batch, int threads, String first, String second) {
        THREADS.setThreadAllocatedMemoryEnabled(true);
        Network net = Network.builder(20).dense(32, LayerActivation.parse(first)).dense(16, LayerActivation.parse(second))
                .dense(3, Activation.SOFTMAX).loss(Loss.CROSS_ENTROPY).seed(2).build();
        int batches = 1000;
        Dataset data = synthetic(batch * batches);
        List<Long> perEpoch = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        long quietest = fitMeasuringEpochs(net, data, batch, threads, 80, perEpoch).subList(40, 80).stream()
                .mapToLong(Long::longValue).min().orElseThrow();
        while (quietest >= 16L * batches && System.nanoTime() < deadline) {
            List<Long> more = fitMeasuringEpochs(net, data, batch, threads, 20, perEpoch);
            quietest = Math.min(quietest, more.subList(1, more.size()).stream().mapToLong(Long::longValue).min()
                    .orElseThrow()); // a new run's first epoch sets up its workspaces
        }
        assertTrue(quietest < 16L * batches, "bytes allocated per epoch of " + batches + " batches: " + perEpoch);
    }

    /** Trains {@code epochs} epochs of {@code net}; {@return the bytes allocated in each}, also added to {@code all}. */
    private static List<Long> fitMeasuringEpochs(Network net, Dataset data, int batch, int threads, int epochs,
                                                 List<Long> all) {
        List<Long> perEpoch = new ArrayList<>();
        long[] last = {0};
        Trainer trainer = Trainer.builder().epochs(epochs).batchSize(batch).threads(threads)
                .optimizer(Optimizer.adam(1e-3)).listener(new TrainingListener() {
                    @Override
                    public void onEpochStart(int epoch, int count) {
                        last[0] = allocatedBytes();
                    }

                    @Override
                    public void onEpochEnd(EpochStats stats) {
                        perEpoch.add(allocatedBytes() - last[0]);
                    }
                }).build();
        trainer.fit(net, data, null);
        all.addAll(perEpoch);
        return perEpoch;
    }
}
