package bp.cli;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.kernel.KernelWarmup;
import bp.kernel.Kernels;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.StepProfile;
import bp.train.Rows;
import bp.train.Trainer;
import bp.train.TrainingListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Training throughput in steady state: whole epochs over (a prefix of) Fashion-MNIST after warm-up
 * epochs, reported as the median epoch's samples/s; and inference ({@code predict}): the latency of
 * {@link Network#predict} per sample at batch 1 and its throughput on larger batches. bench/run
 * calls both beside PyTorch.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures training throughput (samples/s) of 784-512-256-10 ReLU/softmax-CE with SGD "
                + "on Fashion-MNIST, after warm-up epochs (until the JIT has compiled the trainer); "
                + "or, with 'predict', Network.predict on batches of Fashion-MNIST test images (µs per sample "
                + "and samples/s, after 2 s of warm-up).",
                "Kernel GFLOP/s and the comparisons with OpenBLAS and PyTorch are in bench/run (JMH)."},
        footer = {"", "Examples:", "  bp bench train --batch 128 --threads 2",
                "  bp bench train --batch 1 --samples 5000 --threads 1",
                "  bp bench train --batch 128 --profile", "  bp bench predict --batch 1"})
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "train|predict", description = "What to measure: train or predict.")
    String what;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "128", description = "Samples per update (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--shard", paramLabel = "N", description = "Samples per shard (default: the whole batch, up to 256).")
    Integer shard;

    @Option(names = "--layers", paramLabel = "IN,H1,...,OUT", defaultValue = "784,512,256,10", description = "Layer widths (default: ${DEFAULT-VALUE}).")
    String layers;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "60000",
            description = "Training samples per epoch, a prefix of Fashion-MNIST (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--warmup", paramLabel = "N", description = "Epochs not measured (default: whole epochs until "
            + WARMUP_STEPS + " steps have run, at least one).")
    Integer warmup;

    /**
     * Steps run before the measured epochs, by default. The kernel warm-up compiles the kernels
     * before training starts, but the JIT goes on compiling the trainer's own code for a few thousand
     * steps (JFR: the last of bp's C2 compiles, {@code Step.shard} and {@code
     * Workspace.inputGradientChunk}, 4 s into 8 epochs at batch 128), and on two cores each compile
     * takes a core from one of two training threads while the other waits for it at the end of the
     * phase. bp bench train --batch 128 --threads 2 --epochs 12 (Zen 5): 104-119 k samples/s in the
     * first two epochs, 125-134 k in the next two, 137-144 k from the fifth (2300 steps) on, the
     * profile's waits 45 busy-µs a step in the forward pass instead of 70; one thread 69-74 k
     * throughout. Alternating runs: one warm-up epoch measured two threads at 105-109 k, seven
     * (3283 steps) at 113-116 k, and one thread the same either way. PyTorch, which compiles
     * nothing, is measured after the same number of epochs (bench/python/train.py).
     */
    static final int WARMUP_STEPS = 3000;

    /** Whole epochs of {@code samples} in batches of {@code batch} until {@link #WARMUP_STEPS} steps have run; at least one. */
    static int warmupEpochs(int samples, int batch) {
        int steps = (samples + batch - 1) / batch;
        return Math.max(1, (WARMUP_STEPS + steps - 1) / steps);
    }

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "3", description = "Epochs measured (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--profile", description = "Also print where a step's time goes: each phase's wall time, "
            + "the threads' busy time and their waits, per step, over the measured epochs; the forward pass's busy "
            + "time also by part (input rows, each layer, the loss, and the output layer's input gradient where "
            + "the forward pass computes it).")
    boolean profile;

    @Option(names = "--seconds", paramLabel = "X", defaultValue = "3", description = "predict: seconds measured per batch size "
            + "(default: ${DEFAULT-VALUE}).")
    double seconds;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (what.equals("predict")) {
            return predict();
        }
        if (!what.equals("train")) {
            throw new Main.UsageError("bp bench: unknown benchmark '" + what + "' (expected: train or predict)");
        }
        if (epochs < 1) {
            throw new Main.UsageError("--epochs must be at least 1, got " + epochs);
        }
        if (warmup != null && warmup < 0) {
            throw new Main.UsageError("--warmup must be 0 or more, got " + warmup);
        }
        // As bp train: the warm-up takes every kernel through every branch before the JIT compiles
        // it. Without it C2 compiled broadcastGemm on a profile that had not seen the last, shorter
        // batch of an epoch (its early calls ran in unprofiled code), and the first such batch of a
        // measured epoch then cost a deoptimization and recompiles: one epoch in three or four ran
        // at 38-44 k samples/s against 56-61 k (batch 128, one thread, Intel Xeon)
        KernelWarmup.start();
        Dataset all = DataSources.load("fashion-mnist").train();
        KernelWarmup.await();
        int[] sizes = TrainCommand.parseLayers(layers, Rows.of(all));
        if (samples < 1 || samples > all.size()) {
            throw new Main.UsageError("--samples must be between 1 and " + all.size() + ", got " + samples);
        }
        int[] prefix = new int[samples];
        Arrays.setAll(prefix, i -> i);
        Dataset data = all.select("fashion-mnist (first " + samples + ")", prefix);
        Network net = network(sizes);
        int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        int warm = warmup != null ? warmup : warmupEpochs(samples, batch);
        Trainer.Builder settings = Trainer.builder().epochs(warm + epochs).batchSize(batch).threads(workers)
                .optimizer(Optimizer.sgd(0.01));
        if (shard != null) {
            settings.shardSize(shard);
        }
        StepProfile steps = profile ? new StepProfile(net.layerCount()) : null;
        if (steps != null) {
            settings.profile(steps).listener(new TrainingListener() {
                @Override
                public void onEpochStart(int epoch, int batches) {
                    if (epoch == warm + 1) {
                        steps.reset(); // measure the epochs that are reported, not the JIT's warm-up
                    }
                }
            });
        }
        Trainer trainer = settings.build();
        List<EpochStats> history = trainer.fit(net, data, null);
        double[] rates = history.subList(warm, history.size()).stream()
                .mapToDouble(EpochStats::samplesPerSecond).sorted().toArray();
        double median = rates[rates.length / 2];
        PrintWriter out = spec.commandLine().getOut();
        out.printf("bp train %s batch=%d threads=%d shard=%d: %.0f samples/s (median of %d epochs of %d after %d warm-up; "
                        + "all: %s) %s%n",
                layers, batch, workers, trainer.shardSize(batch), median, epochs, samples, warm,
                Arrays.toString(Arrays.stream(rates).mapToLong(Math::round).toArray()), Kernels.get().description());
        if (steps != null) {
            out.print(steps.report());
        }
        out.flush();
        return 0;
    }

    private static Network network(int[] sizes) {
        Network.Builder b = Network.builder(sizes[0]);
        for (int l = 1; l < sizes.length; l++) {
            b.dense(sizes[l], l == sizes.length - 1 ? Activation.SOFTMAX : Activation.RELU);
        }
        return b.loss(Loss.CROSS_ENTROPY).seed(1).build();
    }

    /** Network.predict over the test images in batches of --batch rows, cycling through them. */
    private Integer predict() {
        if (threads != null) {
            throw new Main.UsageError("bp bench predict: --threads does not apply (Network.predict uses every core)");
        }
        if (batch < 1) {
            throw new Main.UsageError("--batch must be at least 1, got " + batch);
        }
        if (!(seconds > 0)) {
            throw new Main.UsageError("--seconds must be positive, got " + seconds);
        }
        KernelWarmup.start(); // as for training, above
        Dataset test = DataSources.load("fashion-mnist").test();
        KernelWarmup.await();
        Network net = network(TrainCommand.parseLayers(layers, Rows.of(test)));
        int rows = Math.min(batch, test.size());
        int in = net.inputs();
        float[] x = test.features();
        int batches = test.size() / rows;
        float[][] inputs = new float[batches][];
        for (int b = 0; b < batches; b++) {
            inputs[b] = Arrays.copyOfRange(x, b * rows * in, (b + 1) * rows * in);
        }
        float sink = 0;
        long calls = 0;
        long start = System.nanoTime();
        long warm = start + 2_000_000_000L;
        long end = warm + (long) (seconds * 1e9);
        long measuredFrom = 0;
        long measuredCalls = 0;
        for (long now = start; now < end; now = System.nanoTime()) {
            if (measuredFrom == 0 && now >= warm) {
                measuredFrom = now;
                measuredCalls = calls;
            }
            sink += net.predict(inputs[(int) (calls % batches)], rows)[0];
            calls++;
        }
        double elapsed = (System.nanoTime() - measuredFrom) / 1e9;
        double perSecond = (calls - measuredCalls) * rows / elapsed;
        PrintWriter out = spec.commandLine().getOut();
        // Network.predict shares a few rows' wide layers, or more rows, among all cores
        int cores = Runtime.getRuntime().availableProcessors();
        out.printf(java.util.Locale.ROOT, "bp predict %s batch=%d threads=%d: %.1f us/sample, %.0f samples/s %s%s%n",
                layers, rows, cores, 1e6 / perSecond, perSecond, Kernels.get().description(), sink == 42f ? " " : "");
        out.flush();
        return 0;
    }
}
