package bp.playground;

import bp.data.Dataset;
import bp.engine.Workspace;
import bp.nn.Activation;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.Trainer;
import bp.train.TrainingDivergedException;
import bp.train.TrainingRun;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One browser tab's network, points and training state. Trains with bp's own loop, a
 * {@link TrainingRun} on one thread, a step or an epoch at a time. Every public method is
 * synchronized: a tab's requests may overlap.
 */
final class Session {

    /** Heat-map cells per side. */
    static final int GRID = 40;
    /** Most loss-history entries kept; older ones are thinned out. */
    static final int HISTORY = 400;
    /** Most time one request may train for, so that the page stays live. */
    static final long TRAIN_BUDGET_NANOS = 250_000_000L;

    private Config config;
    private Network net;
    private TrainingRun run;
    /** The parameters before the last step, to go back to when it diverges. */
    private float[] lastGood;
    private Workspace allWorkspace;
    private float[] inputs;
    private float[] targets;
    private int epoch;
    private long iteration;
    private String problem;
    private final List<double[]> history = new ArrayList<>();
    private long lastUsed = System.nanoTime();

    Session(Config config) {
        reset(config);
    }

    long lastUsed() {
        return lastUsed;
    }

    /** A new network from {@code config}: the page's Reset, or a preset. */
    synchronized Map<String, Object> reset(Config c) {
        Network fresh = build(c);
        this.config = c;
        this.net = fresh;
        this.lastGood = new float[net.parameterCount()];
        this.iteration = 0;
        this.epoch = 0;
        this.problem = null;
        this.history.clear();
        usePoints(c.points());
        recordLoss();
        return state(null);
    }

    /** Replaces the points, keeping the network (the optimizer starts afresh on them). */
    synchronized Map<String, Object> setPoints(List<Config.Point> points) {
        config = config.withPoints(points);
        usePoints(points);
        return state(null);
    }

    /**
     * One mini-batch: forward, backward, update. The trace shows the batch's first sample going
     * through the network as it was before the update: its activations and its deltas ∂E/∂z.
     */
    synchronized Map<String, Object> step() {
        requirePoints();
        Map<String, Object> trace = trace(run.nextRow());
        trainStep();
        recordLoss();
        return state(trace);
    }

    /** Trains up to {@code epochs} epochs, or for a quarter of a second, whichever ends first. */
    synchronized Map<String, Object> train(int epochs) {
        requirePoints();
        long start = System.nanoTime();
        for (int e = 0; e < epochs && problem == null && System.nanoTime() - start < TRAIN_BUDGET_NANOS; ) {
            if (trainStep()) {
                e++;
                recordLoss();
            }
        }
        return state(null);
    }

    synchronized Map<String, Object> state() {
        return state(null);
    }

    private static Network build(Config c) {
        Network.Builder b = Network.builder(2).seed(c.seed());
        for (int units : c.hidden()) {
            b.dense(units, c.activation());
        }
        Activation out = c.loss() == Loss.CROSS_ENTROPY ? Activation.SOFTMAX : Activation.SIGMOID;
        Network net;
        try {
            net = b.dense(c.outputs(), LayerActivation.of(out)).loss(c.loss()).build();
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
        if (c.parameters() != null) {
            if (c.parameters().length != net.parameterCount()) {
                throw new BadRequest("parameters: this network has " + net.parameterCount() + ", got "
                        + c.parameters().length);
            }
            System.arraycopy(c.parameters(), 0, net.parameters(), 0, net.parameterCount());
            net.parametersChanged();
        }
        return net;
    }

    private int points() {
        return config.points().size();
    }

    private void requirePoints() {
        if (points() == 0) {
            throw new BadRequest("there are no points to learn: add some first");
        }
        if (problem != null) {
            throw new BadRequest(problem + ": press Reset");
        }
    }

    private void usePoints(List<Config.Point> points) {
        int n = points.size();
        int outputs = config.outputs();
        inputs = new float[n * 2];
        targets = new float[n * outputs];
        for (int i = 0; i < n; i++) {
            Config.Point p = points.get(i);
            inputs[2 * i] = (float) p.x();
            inputs[2 * i + 1] = (float) p.y();
            if (outputs == 1) {
                targets[i] = p.label();
            } else if (config.loss() == Loss.CROSS_ENTROPY) {
                targets[2 * i + p.label()] = 1f;
            } else {
                // sigmoid outputs never reach 0 or 1: the notes' targets 0.01 and 0.99
                targets[2 * i] = p.label() == 0 ? 0.99f : 0.01f;
                targets[2 * i + 1] = p.label() == 1 ? 0.99f : 0.01f;
            }
        }
        allWorkspace = new Workspace(net, Math.max(1, n));
        if (run != null) {
            run.close();
        }
        run = n == 0 ? null : trainer().start(net, dataset(n), null, null);
    }

    /** The trainer of the page's settings: one thread (the networks are tiny), epochs without end. */
    private Trainer trainer() {
        return Trainer.builder().epochs(Integer.MAX_VALUE).batchSize(config.batch())
                .optimizer(Optimizer.parse(config.optimizer(), config.lr())).seed(config.seed())
                .updateBiases(!config.freezeBiases()).threads(1).build();
    }

    private Dataset dataset(int n) {
        if (config.loss() == Loss.CROSS_ENTROPY) {
            int[] labels = config.points().stream().mapToInt(Config.Point::label).toArray();
            return Dataset.classification("points", inputs, 2, labels, config.outputs());
        }
        return Dataset.regression("points", inputs, 2, targets, config.outputs());
    }

    /**
     * One mini-batch; whether it ended an epoch. A step whose loss or parameters are not finite
     * is undone and leaves a problem to show.
     */
    private boolean trainStep() {
        System.arraycopy(net.parameters(), 0, lastGood, 0, lastGood.length);
        try {
            EpochStats end = run.step();
            if (!finite(net.parameters())) {
                throw new TrainingDivergedException("a parameter overflowed");
            }
            iteration++;
            if (end != null) {
                epoch++;
            }
            return end != null;
        } catch (TrainingDivergedException e) {
            System.arraycopy(lastGood, 0, net.parameters(), 0, lastGood.length);
            net.parametersChanged();
            problem = "training diverged at iteration " + (iteration + 1) + ": try a smaller learning rate";
            return false;
        }
    }

    private static boolean finite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    /** The mean loss over all points, appended to the history (thinned to every other entry when full). */
    private void recordLoss() {
        if (points() == 0) {
            return;
        }
        if (history.size() >= HISTORY) {
            for (int i = 1; i < history.size(); i++) {
                history.remove(i);
            }
        }
        history.add(new double[] {iteration, meanLoss()});
    }

    private double meanLoss() {
        int n = points();
        System.arraycopy(inputs, 0, allWorkspace.input(), allWorkspace.offset(), inputs.length);
        System.arraycopy(targets, 0, allWorkspace.target(), allWorkspace.offset(), targets.length);
        allWorkspace.forward(net, n);
        return allWorkspace.loss(net, n) / n;
    }

    /** The probability (or score) of class 1 for each output row. */
    private double[] classOneScores(float[] out, int rows) {
        double[] s = new double[rows];
        for (int r = 0; r < rows; r++) {
            if (config.outputs() == 1) {
                s[r] = out[r];
            } else if (config.loss() == Loss.CROSS_ENTROPY) {
                s[r] = out[2 * r + 1];
            } else {
                double sum = out[2 * r] + out[2 * r + 1];
                s[r] = sum > 0 ? out[2 * r + 1] / sum : 0.5;
            }
        }
        return s;
    }

    private Map<String, Object> trace(int sample) {
        Workspace one = new Workspace(net, 1);
        System.arraycopy(inputs, 2 * sample, one.input(), one.offset(), 2);
        System.arraycopy(targets, config.outputs() * sample, one.target(), one.offset(), config.outputs());
        one.forward(net, 1);
        float[] g = new float[net.parameterCount()];
        double loss = one.backward(net, 1, g, false);
        List<List<Double>> activations = new ArrayList<>();
        List<List<Double>> deltas = new ArrayList<>();
        activations.add(doubles(one.input(), one.offset(), 2));
        for (int l = 0; l < net.layerCount(); l++) {
            int units = net.size(l + 1);
            activations.add(doubles(one.activations(l), one.offset(), units));
            // for one sample, ∂E/∂b is the delta ∂E/∂z; a maxout unit's delta is its winning piece's
            double[] d = new double[units];
            for (int r = 0; r < net.weightRows(l); r++) {
                d[r % units] += g[net.biasOffset(l) + r];
            }
            List<Double> list = new ArrayList<>();
            for (double v : d) {
                list.add(v);
            }
            deltas.add(list);
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("sample", sample);
        t.put("target", doubles(targets, config.outputs() * sample, config.outputs()));
        t.put("activations", activations);
        t.put("deltas", deltas);
        t.put("loss", loss);
        return t;
    }

    private Map<String, Object> state(Map<String, Object> trace) {
        lastUsed = System.nanoTime();
        int n = points();
        int correct = 0;
        double[] scores = n == 0 ? new double[0] : classOneScores(net.predict(inputs, n), n);
        for (int i = 0; i < n; i++) {
            if ((scores[i] > 0.5 ? 1 : 0) == config.points().get(i).label()) {
                correct++;
            }
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", String.format(Locale.ROOT, "Correct: %d/%d — Iteration: %d", correct, n, iteration));
        s.put("correct", correct);
        s.put("total", n);
        s.put("iteration", iteration);
        s.put("epoch", epoch);
        s.put("loss", history.isEmpty() ? null : history.get(history.size() - 1)[1]);
        s.put("problem", problem);
        s.put("config", config.toJson());
        s.put("points", config.points().stream().map(Config.Point::toJson).toList());
        s.put("scores", java.util.Arrays.stream(scores).boxed().toList());
        s.put("network", network());
        s.put("history", history.stream().map(h -> List.of(h[0], h[1])).toList());
        s.put("heatmap", heatmap());
        if (trace != null) {
            s.put("trace", trace);
        }
        return s;
    }

    private Map<String, Object> network() {
        List<Object> layers = new ArrayList<>();
        float[] p = net.parameters();
        for (int l = 0; l < net.layerCount(); l++) {
            Map<String, Object> layer = new LinkedHashMap<>();
            layer.put("activation", net.layerActivation(l).label());
            layer.put("pieces", net.weightRows(l) / net.size(l + 1));
            for (Network.Tensor t : net.tensors(l)) {
                int cols = t.shape().size() == 2 ? t.shape().get(1) : t.length();
                List<List<Double>> rows = new ArrayList<>();
                for (int r = 0; r < t.length() / cols; r++) {
                    rows.add(doubles(p, t.offset() + r * cols, cols));
                }
                layer.put(t.name(), t.shape().size() == 2 ? rows : rows.get(0));
            }
            layers.add(layer);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sizes", java.util.Arrays.stream(net.sizes()).boxed().toList());
        m.put("parameters", net.parameterCount());
        m.put("layers", layers);
        return m;
    }

    private Map<String, Object> heatmap() {
        double[] v = config.view();
        float[] grid = new float[GRID * GRID * 2];
        for (int row = 0; row < GRID; row++) {
            for (int col = 0; col < GRID; col++) {
                int i = row * GRID + col;
                grid[2 * i] = (float) (v[0] + (col + 0.5) * (v[1] - v[0]) / GRID);
                grid[2 * i + 1] = (float) (v[3] - (row + 0.5) * (v[3] - v[2]) / GRID); // row 0 at the top
            }
        }
        double[] scores = classOneScores(net.predict(grid, GRID * GRID), GRID * GRID);
        List<Double> values = new ArrayList<>(scores.length);
        for (double s : scores) {
            values.add(Math.round(s * 1000) / 1000.0);
        }
        return Map.of("size", GRID, "values", values);
    }

    private static List<Double> doubles(float[] v, int off, int len) {
        List<Double> out = new ArrayList<>(len);
        for (int i = off; i < off + len; i++) {
            out.add((double) v[i]);
        }
        return out;
    }
}
