package bp.cli;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.kernel.Kernels;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.StepProfile;
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
 * epochs, reported as the median epoch's samples/s. bench/run train calls it beside PyTorch.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures training throughput (samples/s) of 784-512-256-10 ReLU/softmax-CE with SGD "
                + "on Fashion-MNIST, after warm-up epochs (the JIT compiles the kernels during the first).",
                "Kernel GFLOP/s and the comparisons with OpenBLAS and PyTorch are in bench/run (JMH)."},
        footer = {"", "Examples:", "  bp bench train --batch 128 --threads 2",
                "  bp bench train --batch 1 --samples 5000 --threads 1"})
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "train", description = "What to measure: train.")
    String what;

    @Option(names = "--batch", defaultValue = "128", description = "Samples per update (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--shard", description = "Samples per parallel task (default: half the batch, at least 32 and at most 64).")
    Integer shard;

    @Option(names = "--layers", defaultValue = "784,512,256,10", description = "Layer widths (default: ${DEFAULT-VALUE}).")
    String layers;

    @Option(names = "--samples", defaultValue = "60000",
            description = "Training samples per epoch, a prefix of Fashion-MNIST (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--warmup", defaultValue = "1", description = "Epochs not measured (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--epochs", defaultValue = "3", description = "Epochs measured (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--profile", description = "Also print where a step's time goes: each phase's wall time, "
            + "the threads' busy time and their waits, per step, over the measured epochs.")
    boolean profile;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!what.equals("train")) {
            throw new Main.UsageError("bp bench: unknown benchmark '" + what + "' (expected: train)");
        }
        Dataset all = DataSources.load("fashion-mnist").train();
        int[] sizes = TrainCommand.parseLayers(layers, all);
        if (samples < 1 || samples > all.size()) {
            throw new Main.UsageError("--samples must be between 1 and " + all.size() + ", got " + samples);
        }
        int[] prefix = new int[samples];
        Arrays.setAll(prefix, i -> i);
        Dataset data = all.select("fashion-mnist (first " + samples + ")", prefix);
        Network.Builder b = Network.builder(sizes[0]);
        for (int l = 1; l < sizes.length; l++) {
            b.dense(sizes[l], l == sizes.length - 1 ? Activation.SOFTMAX : Activation.RELU);
        }
        Network net = b.loss(Loss.CROSS_ENTROPY).seed(1).build();
        int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        Trainer.Builder settings = Trainer.builder().epochs(warmup + epochs).batchSize(batch).threads(workers)
                .optimizer(Optimizer.sgd(0.01));
        if (shard != null) {
            settings.shardSize(shard);
        }
        StepProfile steps = profile ? new StepProfile(net.layerCount()) : null;
        if (steps != null) {
            settings.profile(steps).listener(new TrainingListener() {
                @Override
                public void onEpochStart(int epoch, int batches) {
                    if (epoch == warmup + 1) {
                        steps.reset(); // measure the epochs that are reported, not the JIT's warm-up
                    }
                }
            });
        }
        Trainer trainer = settings.build();
        List<EpochStats> history = trainer.fit(net, data, null);
        double[] rates = history.subList(warmup, history.size()).stream()
                .mapToDouble(EpochStats::samplesPerSecond).sorted().toArray();
        double median = rates[rates.length / 2];
        PrintWriter out = spec.commandLine().getOut();
        out.printf("bp train %s batch=%d threads=%d shard=%d: %.0f samples/s (median of %d epochs of %d; all: %s) %s%n",
                layers, batch, workers, trainer.shardSize(batch), median, epochs, samples,
                Arrays.toString(Arrays.stream(rates).mapToLong(Math::round).toArray()), Kernels.get().description());
        if (steps != null) {
            out.print(steps.report(workers));
        }
        out.flush();
        return 0;
    }
}
