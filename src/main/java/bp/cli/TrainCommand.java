package bp.cli;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.engine.NetworkInternals;
import bp.io.CheckpointFile;
import bp.io.ModelFile;
import bp.kernel.KernelWarmup;
import bp.kernel.Kernels;
import bp.nn.Activation;
import bp.nn.Initializer;
import bp.nn.InputScaling;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.Schedule;
import bp.train.Rows;
import bp.train.Trainer;
import bp.train.TrainingRun;
import bp.train.TrainingListener;
import bp.train.TrainingState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a network by mini-batch backpropagation and reports test accuracy after each epoch.",
                "Losses are means over the batch of the per-sample loss: sse = ½Σ(t−a)², mse = mean of (t−a)², "
                        + "mae = mean of |t−a|, ce = softmax cross-entropy −Σ t·log a, bce = mean of the sigmoid binary "
                        + "cross-entropies (PyTorch's MSELoss, L1Loss, CrossEntropyLoss and BCEWithLogitsLoss)."},
        footer = {"", "Examples:",
                "  bp train                  # Fashion-MNIST, 784-512-256-10, Adam, 15 epochs",
                "  bp train --data digits --epochs 30 --out digits.safetensors",
                "  bp train --train my-train.csv --test my-test.csv --layers 20,64,3 --lr 0.05"})
public class TrainCommand implements Callable<Integer> {

    static final String DEFAULT_DATA = "fashion-mnist";

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--layers", paramLabel = "IN,H1,...,OUT",
            description = "Layer widths, input and output included (default: INPUTS,512,256,CLASSES from the data). "
                    + "A layer may name its activation, e.g. 2,8:tanh,1:identity; the others take --activation "
                    + "(hidden) or --output.")
    String layers;

    @Option(names = "--activation", paramLabel = "NAME", defaultValue = "relu",
            description = "Hidden activation: ${sys:" + Main.ACTIVATIONS_PROPERTY + "} (default: ${DEFAULT-VALUE}).")
    String activation;

    @Option(names = "--output-activation", paramLabel = "NAME",
            description = "Output activation (default: softmax; identity with --targets).")
    String output;

    /** The former name of --output-activation, still accepted. */
    @Option(names = "--output", hidden = true)
    void outputAlias(String name) {
        output = name;
    }

    @Option(names = "--loss", paramLabel = "NAME", description = "sse, mse, mae, ce (after softmax) or bce (after sigmoid) (default: ce after softmax, "
            + "else mse).")
    String loss;

    @Option(names = "--init", paramLabel = "NAME", defaultValue = "uniform",
            description = "Weight initialiser: uniform (PyTorch's nn.Linear default, ±1/√fan_in), xavier "
                    + "(±√(6/(fan_in+fan_out))), xavier_normal (σ² = 2/(fan_in+fan_out)), he (σ² = 2/fan_in) or "
                    + "normal:SIGMA; all but uniform start biases at 0 (default: ${DEFAULT-VALUE}).")
    String init;

    @Option(names = "--bias-init", paramLabel = "zeros|constant:C",
            description = "Start every bias at 0 or at C instead of the initialiser's choice.")
    String biasInit;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "15", description = "Passes over the training set (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "128",
            description = "Samples per update; 1 = online learning (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam",
            description = "sgd, momentum (0.9), nesterov (0.9), adam, adamw (decay 0.01) or rmsprop, with PyTorch's "
                    + "formulas and defaults (default: ${DEFAULT-VALUE}).")
    String optimizerName;

    @Option(names = "--lr", paramLabel = "X", description = "Learning rate (default: 0.001 for adam, adamw and rmsprop, 0.1 for sgd, "
            + "0.05 for momentum and nesterov).")
    Double learningRate;

    @Option(names = "--schedule", paramLabel = "NAME", defaultValue = "cosine", description = "Learning-rate schedule over the epochs: "
            + "constant, cosine (½(1+cos(π·e/E))), step:EVERY:GAMMA or exp:GAMMA (default: ${DEFAULT-VALUE}).")
    String scheduleName;

    @Option(names = "--l2", paramLabel = "X", defaultValue = "0", description = "L2 coefficient λ: adds λ·W to the weights' gradient, "
            + "the penalty (λ/2)·‖W‖²; biases are not penalised (default: ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores). Results do not depend on it.")
    Integer threads;

    @Option(names = "--shard", paramLabel = "N",
            description = "Samples per shard, the rows that go through the network together; part of the "
                    + "result, unlike --threads (default: the whole batch, up to 256).")
    Integer shard;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of initial weights and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write the trained model (safetensors) here.")
    Path save;

    @Option(names = "--save", hidden = true)
    void saveAlias(Path file) {
        save = file;
    }

    @Option(names = "--clip-norm", paramLabel = "X",
            description = "Clip gradients: scale each batch's mean gradient down to L2 norm X when it is longer "
                    + "(all parameters together, as PyTorch's clip_grad_norm_; default: no clipping).")
    Double clipNorm;

    @Option(names = "--val-split", paramLabel = "F",
            description = "Hold out this fraction of the training set (chosen with --seed) for validation, "
                    + "reported after each epoch, e.g. 0.2 for the notes' 80:20.")
    Double valSplit;

    @Option(names = "--patience", paramLabel = "N",
            description = "Early stopping: stop when the validation loss has not improved for N epochs and keep "
                    + "the best epoch's weights (needs --val-split).")
    Integer patience;

    @Option(names = "--metrics", paramLabel = "FILE.jsonl",
            description = "Append one JSON object per epoch (losses, accuracies, time) to this file.")
    Path metrics;

    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "After every epoch, save the state to continue from (parameters, optimizer state, epoch) "
                    + "to DIR/checkpoint.safetensors, atomically.")
    Path checkpoint;

    @Option(names = "--checkpoint-every", paramLabel = "N",
            description = "With --checkpoint: also save every N batches, not only after each epoch.")
    Integer checkpointEvery;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "Continue the run checkpointed in DIR; the other options must be those of that run. "
                    + "The result is the same bits as a run that never stopped.")
    Path resume;

    @Option(names = "--normalize", paramLabel = "standard|minmax",
            description = "Scale each feature by statistics of the training rows (standard: mean 0 and standard "
                    + "deviation 1; minmax: the range 0..1). The model keeps them and applies them in eval, predict, "
                    + "Network.predict and its ONNX export.")
    String normalize;

    @Option(names = "--init-from", paramLabel = "FILE",
            description = "Start from this model's weights (bp train --out, or bp import of an ONNX file) instead of "
                    + "random ones; its architecture replaces --layers, --activation, --output-activation, --init and --bias-init, "
                    + "and --loss may change its loss.")
    Path initFrom;

    @Option(names = "--quiet", description = "Print only the final result.")
    boolean quiet;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** What the model file keeps of the training data (see {@link DataOptions#describe}). */
    private Map<String, Object> dataSpec = Map.of();

    /**
     * Runs the training on this JVM's cores; bp-spark's {@code spark-train} runs it on Spark instead.
     *
     * @param settings the trainer the options describe, with the listeners that print and save
     * @param net the network to train in place
     * @param train the training rows
     * @param validation the rows early stopping watches, or {@code null}
     * @param test the test rows, or {@code null}
     * @return each epoch's figures
     */
    protected List<EpochStats> fit(Trainer.Builder settings, Network net, Rows train, Rows validation, Rows test) {
        try (TrainingRun run = settings.build().start(net, train, validation, test)) {
            return run.toEnd();
        }
    }

    /**
     * The rows to train, validate and test on, and what the model file keeps of them: by default
     * the data options' sets, read into this JVM; bp-spark's {@code spark-train --parquet} reads
     * rows that stay on its executors.
     *
     * @return the rows
     */
    protected Data data() {
        DataSources.TrainTest data = dataOptions.load(DEFAULT_DATA);
        Map<String, Object> description = dataOptions.describe(data.train());
        if (valSplit == null) {
            return new Data(Rows.of(data.train()), null, Rows.of(data.test()), description);
        }
        Dataset[] parts = data.train().split(1 - valSplit, new java.util.SplittableRandom(seed ^ 0x5EEDL));
        if (parts[0].size() == 0 || parts[1].size() == 0) {
            throw new Main.UsageError("--val-split " + valSplit + " leaves no rows for training or for validation");
        }
        return new Data(Rows.of(parts[0]), Rows.of(parts[1]), Rows.of(data.test()), description);
    }

    /**
     * The rows of a run.
     *
     * @param train the training rows
     * @param validation the rows early stopping watches, or null
     * @param test the test rows, or null
     * @param description what the model file keeps of the training data
     */
    public record Data(Rows train, Rows validation, Rows test, Map<String, Object> description) {

        /** The same rows with their features scaled (rows in this JVM only). */
        Data scaled(InputScaling scaling) {
            return scaling == null ? this : new Data(scaledRows(train, scaling), scaledRows(validation, scaling),
                    scaledRows(test, scaling), description);
        }

        private static Rows scaledRows(Rows rows, InputScaling scaling) {
            if (rows != null && rows.local() == null) {
                throw new Main.UsageError("the model scales its inputs, which bp does only for rows in this JVM, and "
                        + rows.name() + " is not");
            }
            return rows == null ? null : Rows.of(TrainCommand.scaled(rows.local(), scaling));
        }
    }

    /** {@return whether --quiet was given} */
    protected final boolean quiet() {
        return quiet;
    }

    /** {@return where the command prints} */
    protected final PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /**
     * {@return whether the command line gave {@code option}, e.g. "--patience"}
     *
     * @param option the option's long name
     */
    protected final boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        checkSaveTarget();
        Choices choices = choices();
        KernelWarmup.start(warmupNeeds(choices)); // compiles the kernels while the data loads
        long loadStart = System.nanoTime();
        Data sets = data();
        dataSpec = sets.description();
        KernelWarmup.await();
        Network net = model(sets.train(), choices);
        sets = sets.scaled(net.inputScaling());
        if (!quiet) {
            printRun(out, net, sets, choices, (System.nanoTime() - loadStart) / 1e9);
        }
        Map<String, Object> runSettings = new LinkedHashMap<>(trainingSettings(choices.optimizer(), choices.schedule(),
                choices.threads()));
        runSettings.remove("threads"); // results do not depend on it
        runSettings.put("network", net.describe());
        Trainer.Builder settings = choices.settings();
        resumeIfAsked(settings, runSettings, out);
        checkpointIfAsked(settings, runSettings);
        settings.listener(new Progress(out, quiet, epochs, batch, sets.train().size()));
        long start = System.nanoTime();
        List<EpochStats> history = fitLogged(settings, net, sets);
        report(out, history, (System.nanoTime() - start) / 1e9, sets.train().size());
        if (save != null) {
            ModelFile.save(net, save, trainingSettings(choices.optimizer(), choices.schedule(), choices.threads()));
            out.println("saved " + save);
        }
        out.flush();
        return 0;
    }

    /** What the options choose, parsed and checked: a mistake is a usage error. */
    private record Choices(Trainer.Builder settings, Optimizer optimizer, Schedule schedule, Initializer initializer,
                           LayerActivation hidden, LayerActivation output, Loss loss, int threads) {
    }

    private Choices choices() {
        try {
            Optimizer optimizer = Optimizer.parse(optimizerName, learningRate != null ? learningRate
                    : defaultLearningRate(optimizerName)).withL2(l2);
            Schedule schedule = Schedule.parse(scheduleName);
            Trainer.Builder settings = Trainer.builder().epochs(epochs).batchSize(batch).optimizer(optimizer)
                    .schedule(schedule).seed(seed);
            if (shard != null) {
                settings.shardSize(shard);
            }
            if (threads != null) {
                settings.threads(threads);
            }
            if (clipNorm != null) {
                if (!(clipNorm > 0)) {
                    throw new Main.UsageError("--clip-norm must be a positive number, not " + clipNorm);
                }
                settings.clipNorm(clipNorm);
            }
            if (patience != null) {
                if (valSplit == null) {
                    throw new Main.UsageError("--patience needs a validation set: add --val-split, e.g. --val-split 0.2");
                }
                settings.patience(patience);
            }
            if (valSplit != null && !(valSplit > 0 && valSplit < 1)) {
                throw new Main.UsageError("--val-split must be a fraction between 0 and 1 (exclusive), not " + valSplit);
            }
            LayerActivation outAct = LayerActivation.parse(output != null ? output
                    : dataOptions.regression() ? "identity" : "softmax");
            return new Choices(settings, optimizer, schedule, Initializer.parse(init), LayerActivation.parse(activation),
                    outAct, loss == null ? null : Loss.parse(loss),
                    threads != null ? threads : Runtime.getRuntime().availableProcessors());
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /**
     * The kernels this run's warm-up compiles: those of its layers' activations and of its update
     * rule (all of them with --init-from, whose activations the model file names).
     */
    private KernelWarmup.Needs warmupNeeds(Choices choices) {
        if (initFrom != null) {
            return KernelWarmup.Needs.ALL;
        }
        List<LayerActivation> activations = layers == null ? List.of(choices.hidden(), choices.output())
                : List.of(parseLayerActivations(layers, choices.hidden(), choices.output()));
        return NetworkInternals.warmupNeeds(activations.stream().map(LayerActivation::kind).toList(),
                Set.of(updateRule(choices.optimizer())));
    }

    /** {@return the kernels' update rule for optimizer} */
    static KernelWarmup.Update updateRule(Optimizer optimizer) {
        return switch (optimizer) {
            case Optimizer.Sgd sgd -> sgd.momentum() == 0 ? KernelWarmup.Update.SGD : KernelWarmup.Update.MOMENTUM;
            case Optimizer.Adam adam -> KernelWarmup.Update.ADAM;
            case Optimizer.RmsProp rmsProp -> KernelWarmup.Update.RMSPROP;
        };
    }

    /** The network to train: from --init-from, or new, with the input scaling of --normalize. */
    private Network model(Rows train, Choices choices) {
        Network net = initFrom != null ? startingModel(train, choices.loss())
                : initialModel(train, choices.hidden(), choices.output(), choices.initializer(), choices.loss());
        if (normalize != null) {
            if (initFrom != null) {
                throw new Main.UsageError("--normalize with --init-from: the model keeps the scaling it was trained "
                        + "with (if any); leave out --normalize");
            }
            Dataset rows = train.local();
            if (rows == null) {
                throw new Main.UsageError("--normalize needs the training rows in this JVM; " + train.name()
                        + " is not");
            }
            try {
                net.setInputScaling(InputScaling.fit(normalize, rows.features(), rows.size(), rows.featureCount()));
            } catch (IllegalArgumentException e) {
                throw new Main.UsageError("--normalize " + normalize + ": " + e.getMessage());
            }
        }
        return net;
    }

    private void printRun(PrintWriter out, Network net, Data sets, Choices choices, double loadSeconds) {
        out.printf(Locale.ROOT, "bp: %s on %s (%d train, %s%d test; loaded in %.1f s)%n", net.describe(),
                sets.train().local() == null ? sets.train().name() : dataOptions.describe(DEFAULT_DATA),
                sets.train().size(), sets.validation() == null ? "" : sets.validation().size() + " validation, ",
                sets.test() == null ? 0 : sets.test().size(),
                loadSeconds);
        out.printf(Locale.ROOT, "bp: %s, %s schedule, batch %d, %d epochs, seed %d, %d threads, %s kernels%n",
                choices.optimizer().describe(), choices.schedule().describe(), batch, epochs, seed, choices.threads(),
                Kernels.get().description());
    }

    /** With --resume, continues from the checkpoint, which must have been written with the same settings. */
    private void resumeIfAsked(Trainer.Builder settings, Map<String, Object> runSettings, PrintWriter out) {
        if (resume == null) {
            return;
        }
        CheckpointFile.Loaded loaded = CheckpointFile.load(resume);
        if (!loaded.settings().equals(jsonRoundTrip(runSettings))) {
            throw new Main.UsageError("--resume " + resume + ": the checkpoint was written with other settings "
                    + loaded.settings() + "; run with the same options as " + runSettings);
        }
        try {
            settings.resumeFrom(loaded.state());
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--resume " + resume + ": " + e.getMessage());
        }
        if (!quiet) {
            out.printf(Locale.ROOT, "bp: resuming from %s after epoch %d%s%n", resume, loaded.state().epoch(),
                    loaded.state().batch() == 0 ? "" : " and " + loaded.state().batch() + " batches of the next");
        }
    }

    /** {@return --checkpoint-every's number of batches, or null} */
    protected final Integer checkpointEvery() {
        return checkpointEvery;
    }

    /**
     * Whether this command keeps --checkpoint-every's checkpoints itself, without --checkpoint
     * (bp-spark's training on the executors keeps them on the driver); by default not.
     *
     * @return whether --checkpoint-every goes without --checkpoint
     */
    protected boolean keepsCheckpoints() {
        return false;
    }

    /** With --checkpoint (and --checkpoint-every), writes the training state there as it goes. */
    private void checkpointIfAsked(Trainer.Builder settings, Map<String, Object> runSettings) {
        if (checkpointEvery != null) {
            if ((checkpoint == null && !keepsCheckpoints()) || checkpointEvery < 1) {
                throw new Main.UsageError("--checkpoint-every needs --checkpoint DIR and a number of batches ≥ 1");
            }
            if (checkpoint != null) {
                settings.stateEvery(checkpointEvery);
            }
        }
        if (checkpoint == null) {
            return;
        }
        try {
            Files.createDirectories(checkpoint);
        } catch (java.io.IOException e) {
            throw new Main.UsageError("--checkpoint " + checkpoint + ": cannot create the directory (" + e.getMessage() + ")");
        }
        settings.listener(new TrainingListener() {
            @Override
            public boolean wantsState() {
                return true;
            }

            @Override
            public void onState(TrainingState state) {
                CheckpointFile.save(checkpoint, state, runSettings);
            }
        });
    }

    /** Trains, appending each epoch to --metrics when given. */
    private List<EpochStats> fitLogged(Trainer.Builder settings, Network net, Data sets) {
        MetricsLog log = metrics == null ? null
                : new MetricsLog(metrics, java.time.Instant.now().toString() + " " + net.describe());
        if (log != null) {
            settings.listener(log);
        }
        try {
            return fit(settings, net, sets.train(), sets.validation(), sets.test());
        } finally {
            if (log != null) {
                log.close();
            }
        }
    }

    /** The last line: the test result (the kept epoch's, with early stopping), time and speed. */
    private void report(PrintWriter out, List<EpochStats> history, double seconds, long trainRows) {
        EpochStats last = history.get(history.size() - 1);
        double testAccuracy = last.testAccuracy();
        double testLoss = last.testLoss();
        if (patience != null) {
            int kept = EpochStats.bestEpoch(history);
            EpochStats best = history.get(Math.max(0, kept - 1));
            testAccuracy = best.testAccuracy();
            testLoss = best.testLoss();
            out.printf(Locale.ROOT, "%s; kept epoch %d (validation loss %.4f)%n",
                    history.size() < epochs ? "early stop after epoch " + history.size()
                            : "no early stop in " + epochs + " epochs", kept, best.validationLoss());
        }
        String result = Double.isNaN(testAccuracy) ? String.format(Locale.ROOT, "test loss %.4f", testLoss)
                : String.format(Locale.ROOT, "test accuracy %.2f%% (loss %.4f)", 100 * testAccuracy, testLoss);
        out.printf(Locale.ROOT, "%s after %d epochs in %.1f s, %.0f samples/s%n", result, history.size(), seconds,
                (double) trainRows * history.size() / seconds);
    }

    /** A new network from --layers, --activation, --output-activation, --init and --bias-init. */
    private Network initialModel(Rows train, LayerActivation hidden, LayerActivation outAct, Initializer initializer,
                                 Loss lossFn) {
        int[] sizes = sizes(train);
        LayerActivation[] layerActivations = layers == null ? null : parseLayerActivations(layers, hidden, outAct);
        if (layerActivations == null) {
            layerActivations = new LayerActivation[sizes.length - 1];
            java.util.Arrays.fill(layerActivations, hidden);
            layerActivations[sizes.length - 2] = outAct;
        }
        Network.Builder b = Network.builder(sizes[0]).initializer(initializer).seed(seed);
        if (biasInit != null) {
            b.biases(parseBiasInit(biasInit));
        }
        for (int l = 1; l < sizes.length; l++) {
            b.dense(sizes[l], layerActivations[l - 1]);
        }
        if (lossFn != null) {
            b.loss(lossFn);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /** The network of --init-from, checked against the data, with --loss if given. */
    private Network startingModel(Rows train, Loss lossFn) {
        for (String option : List.of("--layers", "--activation", "--output-activation", "--output", "--init",
                "--bias-init")) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new Main.UsageError("--init-from " + initFrom + " gives the architecture and the weights; "
                        + "leave out " + option);
            }
        }
        Network start = ModelFile.load(initFrom);
        if (start.inputs() != train.featureCount() || start.outputs() != train.targetWidth()) {
            throw new Main.UsageError("--init-from " + initFrom + ": the model takes " + start.inputs() + " inputs and "
                    + "gives " + start.outputs() + " outputs, but " + train.name() + " has " + train.featureCount()
                    + " features and " + train.targetWidth() + (dataOptions.regression() ? " targets" : " classes"));
        }
        if (lossFn == null || lossFn == start.loss()) {
            return start;
        }
        List<LayerActivation> acts = new java.util.ArrayList<>();
        for (int l = 0; l < start.layerCount(); l++) {
            acts.add(start.layerActivation(l));
        }
        try {
            return Network.ofLayers(start.sizes(), acts, lossFn, start.parameters());
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--loss " + loss + " with --init-from " + initFrom + ": " + e.getMessage());
        }
    }

    /** {@code d} with its features scaled by {@code scaling} ({@code d} itself when that is {@code null}). */
    static Dataset scaled(Dataset d, InputScaling scaling) {
        return scaling == null ? d : d.withFeatures(scaling.apply(d.features(), d.size()));
    }

    /** Fails before training, not after it, when the model could not be written. */
    private void checkSaveTarget() {
        checkOutputFile("--metrics", metrics);
        checkOutputFile("--out", save);
    }

    /** A file this run will write: its directory must exist and it must not be a directory. */
    static void checkOutputFile(String option, Path file) {
        if (file == null) {
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new Main.UsageError(option + " " + file + ": directory " + dir + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new Main.UsageError(option + " " + file + ": is a directory, expected a file name");
        }
    }

    private int[] sizes(Rows train) {
        if (layers == null) {
            return new int[] {train.featureCount(), 512, 256, train.targetWidth()};
        }
        return parseLayers(layers, train);
    }

    /** Parses {@code --layers}, checking the ends against the data's features and classes. */
    static int[] parseLayers(String layers, Rows train) {
        int[] sizes = parseWidths(layers);
        if (sizes[0] != train.featureCount()) {
            throw new Main.UsageError("--layers " + layers + ": the input width must be " + train.featureCount()
                    + ", the number of features in " + train.name());
        }
        if (sizes[sizes.length - 1] != train.targetWidth()) {
            throw new Main.UsageError("--layers " + layers + ": the output width must be " + train.targetWidth()
                    + ", the number of classes in " + train.name());
        }
        return sizes;
    }

    /**
     * The layers of {@code --layers}: {@code 2,8:tanh,2}, or as bp prints architectures,
     * {@code 2-8:tanh-2} (where a minus sign right after a colon, as in {@code prelu:-0.1}, is a sign).
     */
    static String[] layerParts(String layers) {
        return layers.contains(",") ? layers.split(",") : layers.split("(?<!:)-");
    }

    /** The widths of {@code --layers} such as {@code 2,8:tanh,1:identity} (see {@link #parseLayerActivations}). */
    static int[] parseWidths(String layers) {
        String[] parts = layerParts(layers);
        if (parts.length < 2) {
            throw new Main.UsageError("--layers " + layers + ": expected at least two widths, e.g. 784,128,10");
        }
        int[] sizes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String width = parts[i].split(":", 2)[0];
            if (i == 0 && !width.equals(parts[i])) {
                throw new Main.UsageError("--layers " + layers + ": the input layer has no activation");
            }
            try {
                sizes[i] = Integer.parseInt(width.trim());
            } catch (NumberFormatException e) {
                throw new Main.UsageError("--layers " + layers + ": '" + parts[i] + "' is not a whole number");
            }
            if (sizes[i] <= 0) {
                throw new Main.UsageError("--layers " + layers + ": widths must be positive");
            }
        }
        return sizes;
    }

    static float parseBiasInit(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("zeros") || t.equals("zero")) {
            return 0f;
        }
        if (t.startsWith("constant:")) {
            try {
                float c = Float.parseFloat(t.substring("constant:".length()));
                if (Float.isFinite(c)) {
                    return c;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new Main.UsageError("--bias-init '" + text + "': expected zeros or constant:C with a number C");
    }

    /** Each layer's activation: the one named after its width ({@code 8:tanh}), else hidden or output. */
    static LayerActivation[] parseLayerActivations(String layers, LayerActivation hidden, LayerActivation output) {
        String[] parts = layerParts(layers);
        LayerActivation[] result = new LayerActivation[parts.length - 1];
        for (int i = 1; i < parts.length; i++) {
            String[] widthAndName = parts[i].split(":", 2);
            try {
                result[i - 1] = widthAndName.length == 2 ? LayerActivation.parse(widthAndName[1])
                        : i == parts.length - 1 ? output : hidden;
            } catch (IllegalArgumentException e) {
                throw new Main.UsageError("--layers " + layers + ": " + e.getMessage());
            }
        }
        return result;
    }

    private static double defaultLearningRate(String optimizer) {
        return switch (optimizer.trim().toLowerCase(Locale.ROOT)) {
            case "sgd" -> 0.1;
            case "momentum", "nesterov" -> 0.05;
            default -> 0.001;
        };
    }

    private Map<String, Object> trainingSettings(Optimizer optimizer, Schedule schedule, int threadCount) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("data", dataOptions.describe(DEFAULT_DATA));
        t.put("optimizer", optimizer.describe());
        t.put("learning_rate", optimizer.learningRate());
        t.put("l2", optimizer.l2());
        t.put("schedule", schedule.describe());
        t.put("batch", batch);
        t.put("epochs", epochs);
        t.put("shard", shard != null ? shard : Trainer.builder().build().shardSize(batch));
        t.put("seed", seed);
        if (valSplit != null) {
            t.put("val_split", valSplit);
        }
        if (patience != null) {
            t.put("patience", patience);
        }
        if (clipNorm != null) {
            t.put("clip_norm", clipNorm);
        }
        t.put("init", initFrom != null ? "from " + initFrom : init);
        t.put("threads", threadCount);
        t.put(DataOptions.SPEC_KEY, dataSpec);
        return t;
    }

    /** The settings as they read back from a checkpoint's JSON (numbers may change type on the way). */
    private static Map<String, Object> jsonRoundTrip(Map<String, Object> settings) {
        try {
            com.fasterxml.jackson.jr.ob.JSON json = com.fasterxml.jackson.jr.ob.JSON.std;
            return json.mapFrom(json.asString(settings));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "loss L acc A%  ", without the accuracy where it does not apply (regression). */
    static String figures(double loss, double accuracy) {
        return Double.isNaN(accuracy) ? String.format(Locale.ROOT, "loss %.4f  ", loss)
                : String.format(Locale.ROOT, "loss %.4f acc %.2f%%  ", loss, 100 * accuracy);
    }

    /**
     * Progress for people: on a terminal, a bar per epoch redrawn at most 5 times a second (batches,
     * samples/s, running loss, ETA), then one summary line per epoch; elsewhere (a file, a pipe, CI)
     * only the summary lines. Hand-written: the usual library (progressbar) brings jline and its
     * native libraries, which this jar does not want.
     */
    static final class Progress implements TrainingListener {
        private final PrintWriter out;
        private final boolean quiet;
        private final boolean live = System.console() != null;
        private final int epochs;
        private final int batchSize;
        private final long samples;
        private long epochStart;
        private long lastDraw;
        private double lossSum;
        private int lossCount;
        private int firstBatch = -1;

        Progress(PrintWriter out, boolean quiet, int epochs, int batchSize, long samples) {
            this.out = out;
            this.quiet = quiet;
            this.epochs = epochs;
            this.batchSize = batchSize;
            this.samples = samples;
        }

        @Override
        public void onEpochStart(int epoch, int batches) {
            epochStart = System.nanoTime();
            lossSum = 0;
            lossCount = 0;
            firstBatch = -1;
        }

        @Override
        public void onBatchEnd(int epoch, int batch, int batches, double meanLoss) {
            lossSum += meanLoss;
            lossCount++;
            if (firstBatch < 0) {
                firstBatch = batch - 1; // a resumed epoch starts part-way
            }
            long now = System.nanoTime();
            if (!quiet && live && (now - lastDraw > 200_000_000L || batch == batches)) {
                lastDraw = now;
                int done = batch - firstBatch;
                long seen = Math.min((long) done * batchSize, samples);
                out.print("\r" + line(epoch, epochs, batch, batches, seen, (now - epochStart) / 1e9,
                        lossSum / lossCount, done));
                out.flush();
            }
        }

        /** The bar: {@code epoch 3/15 [######..........] 234/469  41.2k samples/s  loss 0.3121  ETA 6 s}. */
        static String line(int epoch, int epochs, int batch, int batches, long seen, double seconds,
                           double runningLoss, int done) {
            int width = 24;
            int filled = (int) ((long) width * batch / batches);
            double rate = seconds > 0 ? seen / seconds : 0;
            double eta = done > 0 ? seconds / done * (batches - batch) : 0;
            String speed = rate >= 1000 ? String.format(Locale.ROOT, "%.1fk", rate / 1000)
                    : String.format(Locale.ROOT, "%.0f", rate);
            return String.format(Locale.ROOT, "epoch %d/%d [%s%s] %d/%d  %s samples/s  loss %.4f  ETA %s   ",
                    epoch, epochs, "#".repeat(filled), ".".repeat(width - filled), batch, batches, speed,
                    runningLoss, eta >= 60 ? String.format(Locale.ROOT, "%d min %02d s", (long) eta / 60, (long) eta % 60)
                            : String.format(Locale.ROOT, "%.0f s", eta));
        }

        @Override
        public void onEpochEnd(EpochStats s) {
            if (quiet) {
                return;
            }
            String val = s.hasValidation() ? "val " + figures(s.validationLoss(), s.validationAccuracy()) : "";
            String summary = String.format(Locale.ROOT, "epoch %d/%d  train %s%stest %s%.1f s  %.0f samples/s",
                    s.epoch(), epochs, figures(s.trainLoss(), s.trainAccuracy()), val,
                    figures(s.testLoss(), s.testAccuracy()), s.seconds(), s.samplesPerSecond());
            // on a terminal, overwrite the bar (padding covers a bar longer than the summary)
            out.println(live ? "\r" + summary + " ".repeat(Math.max(0, 100 - summary.length())) : summary);
            out.flush();
        }
    }
}
