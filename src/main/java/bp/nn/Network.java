package bp.nn;

import bp.engine.NetworkInternals;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;
import bp.kernel.Elementwise;
import bp.kernel.Kernels;
import bp.kernel.Parallel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A feedforward network of dense layers: an immutable architecture (layer sizes, activations,
 * loss) and one flat {@code float[]} of parameters. Layer {@code l} stores its weights
 * {@code [rows × in]} row-major (PyTorch's {@code nn.Linear} layout), then its {@code rows}
 * biases, then, for PReLU, one slope per unit ({@link #tensors(int)}). The rows are the units,
 * or for maxout units × pieces ({@link #weightRows(int)}).
 *
 * <pre>{@code
 * Network net = Network.builder(784)
 *         .dense(128, Activation.RELU)
 *         .dense(10, Activation.SOFTMAX)
 *         .loss(Loss.CROSS_ENTROPY)
 *         .seed(42)
 *         .build();
 * float[] probabilities = net.predict(image);
 * }</pre>
 */
public final class Network {

    private final int[] sizes;
    private final Activation[] activations;
    /** Each layer's activation parameter (see {@link LayerActivation}); 0 where there is none. */
    private final float[] alphas;
    private final Loss loss;
    private final float[] params;
    private final int[] weightOffsets;
    private final int[] biasOffsets;
    /** Where each layer's PReLU slopes start; -1 for the other activations. */
    private final int[] slopeOffsets;
    /** {@link #weightRows(int)}, computed once: the training loop asks for it at every step. */
    private final int[] weightRows;
    private final Kernels kernels;
    /** Bumped by {@link #parametersChanged()}; tells {@link #transposedWeights()} when to refresh. */
    private InputScaling inputScaling;
    private int parameterVersion;
    private TransposedWeights inferenceWeights;
    /** One workspace per part of a parallel prediction, used only under {@code Predictions.LOCK}. */
    private Workspace[] predictWorkspaces;

    /** The same network (sharing its parameters) computed with other kernels: for comparing implementations. */
    Network(Network net, Kernels kernels) {
        this.sizes = net.sizes;
        this.activations = net.activations;
        this.alphas = net.alphas;
        this.loss = net.loss;
        this.params = net.params;
        this.weightOffsets = net.weightOffsets;
        this.biasOffsets = net.biasOffsets;
        this.slopeOffsets = net.slopeOffsets;
        this.weightRows = net.weightRows;
        this.kernels = kernels;
    }

    private Network(int[] sizes, Activation[] activations, float[] alphas, Loss loss, float[] params) {
        this.kernels = Kernels.get();
        if (sizes.length < 2) {
            throw new IllegalArgumentException("a network needs at least one layer");
        }
        for (int s : sizes) {
            if (s <= 0) {
                throw new IllegalArgumentException("layer sizes must be positive, got " + Arrays.toString(sizes));
            }
        }
        loss.checkOutput(activations[activations.length - 1]);
        this.sizes = sizes.clone();
        this.activations = activations.clone();
        this.alphas = new float[activations.length];
        for (int l = 0; l < activations.length; l++) {
            // validates α and zeroes it where the activation takes none
            this.alphas[l] = new LayerActivation(activations[l],
                    alphas == null ? activations[l].defaultAlpha() : alphas[l]).alpha();
        }
        this.loss = loss;
        Layout layout = Layout.of(sizes, activations, this.alphas);
        if (layout.total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("network too large: more than 2^31 parameters");
        }
        this.weightRows = layout.weightRows;
        this.weightOffsets = layout.weightOffsets;
        this.biasOffsets = layout.biasOffsets;
        this.slopeOffsets = layout.slopeOffsets;
        if (params == null) {
            params = new float[(int) layout.total];
        } else if (params.length != layout.total) {
            throw new IllegalArgumentException("expected " + layout.total + " parameters, got " + params.length);
        }
        this.params = params;
    }

    /**
     * Starts a network whose input has {@code inputs} features.
     *
     * @param inputs features per input row
     * @return a builder to add the layers to
     */
    public static Builder builder(int inputs) {
        return new Builder(inputs);
    }

    /**
     * A network with the given architecture and parameters (copied), e.g. read from a file.
     *
     * @param sizes the widths, input first
     * @param activations one per layer
     * @param loss the loss
     * @param params the parameters in storage order (see {@link #tensors})
     * @return the network
     */
    public static Network of(int[] sizes, List<Activation> activations, Loss loss, float[] params) {
        return ofLayers(sizes, activations.stream().map(LayerActivation::of).toList(), loss, params);
    }

    /**
     * As {@link #of(int[], List, Loss, float[])}, with each layer's activation parameter.
     *
     * @param sizes the widths, input first
     * @param activations one per layer, with its parameter
     * @param loss the loss
     * @param params the parameters in storage order (see {@link #tensors})
     * @return the network
     */
    public static Network ofLayers(int[] sizes, List<LayerActivation> activations, Loss loss, float[] params) {
        Network net = architecture(sizes, activations, loss);
        if (params.length != net.params.length) {
            throw new IllegalArgumentException("expected " + net.params.length + " parameters, got " + params.length);
        }
        System.arraycopy(params, 0, net.params, 0, params.length);
        return net;
    }

    /**
     * The architecture with every parameter 0: a shape to fill, e.g. from a file.
     *
     * @param sizes the widths, input first
     * @param activations one per layer, with its parameter
     * @param loss the loss
     * @return the network, every parameter 0
     */
    public static Network architecture(int[] sizes, List<LayerActivation> activations, Loss loss) {
        if (activations.size() != sizes.length - 1) {
            throw new IllegalArgumentException(sizes.length - 1 + " layers need as many activations, got "
                    + activations.size());
        }
        Activation[] kinds = new Activation[activations.size()];
        float[] alphas = new float[activations.size()];
        for (int l = 0; l < kinds.length; l++) {
            kinds[l] = activations.get(l).kind();
            alphas[l] = activations.get(l).alpha();
        }
        return new Network(sizes, kinds, alphas, loss, null);
    }

    /**
     * How many parameters a network of this architecture has (without allocating them).
     *
     * @param sizes the widths, input first
     * @param activations one per layer, with its parameter
     * @return the number of parameters
     */
    public static long parameterCount(int[] sizes, List<LayerActivation> activations) {
        Activation[] kinds = new Activation[activations.size()];
        float[] alphas = new float[activations.size()];
        for (int l = 0; l < kinds.length; l++) {
            kinds[l] = activations.get(l).kind();
            alphas[l] = activations.get(l).alpha();
        }
        return Layout.of(sizes, kinds, alphas).total;
    }

    /**
     * Where each layer's parameters sit in the flat array (see the class comment); {@code total} is
     * the parameter count, saturating at {@code Long.MAX_VALUE} for absurd sizes.
     */
    private record Layout(int[] weightRows, int[] weightOffsets, int[] biasOffsets, int[] slopeOffsets, long total) {
        static Layout of(int[] sizes, Activation[] kinds, float[] alphas) {
            int layers = kinds.length;
            int[] rowsOf = new int[layers];
            int[] weightAt = new int[layers];
            int[] biasAt = new int[layers];
            int[] slopeAt = new int[layers];
            long offset = 0;
            try {
                for (int l = 0; l < layers; l++) {
                    long rows = (long) sizes[l + 1] * new LayerActivation(kinds[l], alphas[l]).pieces();
                    rowsOf[l] = (int) Math.min(rows, Integer.MAX_VALUE); // too large anyway: rejected
                    weightAt[l] = (int) Math.min(offset, Integer.MAX_VALUE);
                    offset = Math.addExact(offset, Math.multiplyExact(sizes[l], rows));
                    biasAt[l] = (int) Math.min(offset, Integer.MAX_VALUE);
                    offset = Math.addExact(offset, rows);
                    boolean prelu = kinds[l] == Activation.PRELU;
                    slopeAt[l] = prelu ? (int) Math.min(offset, Integer.MAX_VALUE) : -1;
                    offset = Math.addExact(offset, prelu ? sizes[l + 1] : 0);
                }
            } catch (ArithmeticException e) {
                offset = Long.MAX_VALUE;
            }
            return new Layout(rowsOf, weightAt, biasAt, slopeAt, offset);
        }
    }

    /**
     * An independent copy: same architecture, parameters copied.
     *
     * @return the copy
     */
    public Network copy() {
        Network n = new Network(sizes, activations, alphas, loss, params.clone());
        n.inputScaling = inputScaling;
        return n;
    }

    /**
     * The scaling applied to the inputs of {@link #predict} before the first layer, or
     * {@code null}; the training data was scaled the same way before training.
     *
     * @return the scaling, or {@code null} for none
     */
    public InputScaling inputScaling() {
        return inputScaling;
    }

    /**
     * Sets (or with {@code null} removes) the scaling of {@link #inputScaling()}.
     *
     * @param scaling the scaling, as wide as the input, or {@code null}
     */
    public void setInputScaling(InputScaling scaling) {
        if (scaling != null && scaling.offset().length != inputs()) {
            throw new IllegalArgumentException("an input scaling of " + scaling.offset().length + " features for a "
                    + "network of " + inputs() + " inputs");
        }
        this.inputScaling = scaling;
    }

    /**
     * Features per input row.
     *
     * @return the input width
     */
    public int inputs() {
        return sizes[0];
    }

    /**
     * Outputs per row: the last layer's units.
     *
     * @return the output width
     */
    public int outputs() {
        return sizes[sizes.length - 1];
    }

    /**
     * Number of dense layers (not counting the input).
     *
     * @return the number of layers
     */
    public int layerCount() {
        return activations.length;
    }

    /**
     * All widths, input first: e.g. {@code [784, 512, 256, 10]}.
     *
     * @return a copy of the widths
     */
    public int[] sizes() {
        return sizes.clone();
    }

    /**
     * The width of layer {@code i} of {@link #sizes()} (0 is the input), without copying the array.
     *
     * @param i 0 for the input, l + 1 for layer l
     * @return the width
     */
    public int size(int i) {
        return sizes[i];
    }

    /**
     * Layer {@code layer}'s activation (layers count from 0).
     *
     * @param layer the layer, from 0
     * @return its activation
     */
    public Activation activation(int layer) {
        return activations[layer];
    }

    /**
     * Layer {@code layer}'s activation parameter α (see {@link LayerActivation}); 0 where there is none.
     *
     * @param layer the layer, from 0
     * @return α
     */
    public float alpha(int layer) {
        return alphas[layer];
    }

    /**
     * Layer {@code layer}'s activation with its parameter.
     *
     * @param layer the layer, from 0
     * @return the activation and its parameter
     */
    public LayerActivation layerActivation(int layer) {
        return new LayerActivation(activations[layer], alphas[layer]);
    }

    /**
     * The loss it is trained with.
     *
     * @return the loss
     */
    public Loss loss() {
        return loss;
    }

    /**
     * The number of parameters: weights, biases and PReLU slopes.
     *
     * @return the number of parameters
     */
    public int parameterCount() {
        return params.length;
    }

    /**
     * The live parameter array (all layers' weights and biases, see the class comment). Writing it
     * changes the network; the trainer updates it in place.
     *
     * @return the parameters themselves (not a copy)
     */
    public float[] parameters() {
        return params;
    }

    /**
     * Tells the network that {@link #parameters()} was written, so that the next prediction uses the
     * new values. The trainer calls it after every update; call it after changing parameters yourself.
     */
    public void parametersChanged() {
        parameterVersion++;
    }

    /** The weights packed for batched inference, refreshed when the parameters changed. */
    private synchronized TransposedWeights transposedWeights() {
        if (inferenceWeights == null) {
            inferenceWeights = new TransposedWeights(this);
        } else {
            inferenceWeights.refreshIfChanged();
        }
        return inferenceWeights;
    }

    /**
     * Where layer {@code layer}'s weights ({@code [rows, in]}, row-major) start in {@link #parameters()}.
     *
     * @param layer the layer, from 0
     * @return the offset
     */
    public int weightOffset(int layer) {
        return weightOffsets[layer];
    }

    /**
     * Where layer {@code layer}'s biases start in {@link #parameters()}.
     *
     * @param layer the layer, from 0
     * @return the offset
     */
    public int biasOffset(int layer) {
        return biasOffsets[layer];
    }

    /**
     * The rows of layer {@code layer}'s weight matrix, which is also the number of its biases and
     * pre-activations: its units, times the pieces of a maxout layer.
     *
     * @param layer the layer, from 0
     * @return the number of rows
     */
    public int weightRows(int layer) {
        return weightRows[layer];
    }

    /**
     * Whether layer {@code layer} has learned PReLU slopes.
     *
     * @param layer the layer, from 0
     * @return whether it is a PReLU layer
     */
    public boolean hasSlopes(int layer) {
        return slopeOffsets[layer] >= 0;
    }

    /**
     * Where layer {@code layer}'s PReLU slopes start in {@link #parameters()}; only when {@link #hasSlopes}.
     *
     * @param layer the layer, from 0
     * @return the offset
     */
    public int slopeOffset(int layer) {
        if (slopeOffsets[layer] < 0) {
            throw new IllegalArgumentException("layer " + layer + " (" + activations[layer].label() + ") has no slopes");
        }
        return slopeOffsets[layer];
    }

    /**
     * A named slice of {@link #parameters()}: {@code weight [rows, in]}, {@code bias [rows]} or {@code slope [units]}.
     *
     * @param name {@code weight}, {@code bias} or {@code slope}
     * @param shape its dimensions
     * @param offset where it starts in {@link #parameters()}
     */
    public record Tensor(String name, List<Integer> shape, int offset) {
        /**
         * The number of values.
         *
         * @return the product of the shape
         */
        public int length() {
            return shape.stream().reduce(1, (a, b) -> a * b);
        }
    }

    /**
     * Layer {@code layer}'s parameters in storage order, named as in model files (without the layer prefix).
     *
     * @param layer the layer, from 0
     * @return its weight, bias and (PReLU) slope tensors
     */
    public List<Tensor> tensors(int layer) {
        List<Tensor> out = new ArrayList<>(3);
        out.add(new Tensor("weight", List.of(weightRows(layer), sizes[layer]), weightOffsets[layer]));
        out.add(new Tensor("bias", List.of(weightRows(layer)), biasOffsets[layer]));
        if (hasSlopes(layer)) {
            out.add(new Tensor("slope", List.of(sizes[layer + 1]), slopeOffsets[layer]));
        }
        return out;
    }

    /**
     * The weight from input {@code in} to row {@code out} (a unit, or a maxout piece) of layer {@code layer}.
     *
     * @param layer the layer, from 0
     * @param out the row
     * @param in the input
     * @return the weight
     */
    public float weight(int layer, int out, int in) {
        return params[weightOffsets[layer] + out * sizes[layer] + in];
    }

    /**
     * The bias of row {@code out} (a unit, or a maxout piece) of layer {@code layer}.
     *
     * @param layer the layer, from 0
     * @param out the row
     * @return the bias
     */
    public float bias(int layer, int out) {
        return params[biasOffsets[layer] + out];
    }

    /**
     * The outputs for one input vector.
     *
     * @param input one row of features
     * @return the outputs
     */
    public float[] predict(float[] input) {
        return predict(input, 1);
    }

    /**
     * The outputs for {@code rows} input vectors stored row by row; the result is {@code rows × outputs}.
     * A row's outputs do not depend on the other rows or on how many there are. The features are on
     * the scale of the training data as it was read: the network's {@link #inputScaling()}, if any,
     * is applied first. Every core works on the call (a few rows: on each layer's units; more: on
     * shares of the rows), except while another call holds the cores: then it runs on the calling
     * thread alone. For many threads predicting at once, {@link Predictor} allocates nothing per call.
     *
     * @param features the rows' features one after another
     * @param rows how many rows
     * @return {@code rows × outputs()} values, row by row
     */
    public float[] predict(float[] features, int rows) {
        if (features.length != rows * inputs()) {
            throw new IllegalArgumentException("expected " + rows + " × " + inputs() + " inputs, got "
                    + features.length + " values");
        }
        float[] inputs = inputScaling == null ? features : inputScaling.apply(features, rows);
        float[] out = new float[rows * outputs()];
        TransposedWeights transposed = transposedWeights();
        int threads = Predictions.POOL.threads();
        int parts = Math.min(threads, Math.max(1, rows / PART_MIN_ROWS));
        if (Predictions.LOCK.tryLock()) {
            try {
                if (rows < ROWS_SPLIT_MIN && threads > 1) {
                    predictByUnits(inputs, rows, transposed, out);
                } else if (parts == 1) {
                    predictRows(inputs, 0, rows, transposed, predictWorkspaces(1)[0], out);
                } else {
                    Workspace[] workspaces = predictWorkspaces(parts);
                    // an equal share of rows each (1000 rows: 500 and 500, not chunks of 512 and 488)
                    Predictions.POOL.forEach(parts, t -> predictRows(inputs, (int) ((long) rows * t / parts),
                            (int) ((long) rows * (t + 1) / parts), transposed, workspaces[t], out));
                }
            } finally {
                Predictions.LOCK.unlock();
            }
        } else {
            // another call holds the shared workspaces: this one works alone, in a workspace of its own
            predictRows(inputs, 0, rows, transposed, new Workspace(this, Math.min(rows, PREDICT_CHUNK)), out);
        }
        return out;
    }

    /**
     * Fewer rows than this go through with every core on each wide layer ({@link #predictByUnits});
     * from this many on, each core takes an equal share of the rows, at least {@link #PART_MIN_ROWS}
     * of them. {@code bp bench predict} on two cores (Intel Xeon), samples/s by units against by
     * rows: 6 rows 142 k against 78 k, 8 rows 114 k against 135 k, 12 rows 138 k against 174 k.
     */
    private static final int ROWS_SPLIT_MIN = 8;

    /**
     * The fewest rows a core takes of a prediction shared out by rows: two shares of 2 rows ran at
     * 80 k samples/s, units shared out at 102 k (4 rows, same machine); from 4 rows a share, rows
     * win. Against the calling thread alone: 16 rows 134 k against 76 k, 128 rows 178 k against
     * 99 k.
     */
    private static final int PART_MIN_ROWS = 4;

    /**
     * Rows with every core: each wide layer's units are shared out in blocks of
     * {@link Workspace#unitBlock(Network)} units, so each core streams its part of the weights (the
     * cost of a prediction of a few rows is reading them); the values are those of the one-thread pass.
     */
    private void predictByUnits(float[] input, int rows, TransposedWeights transposed, float[] out) {
        Workspace ws = predictWorkspaces(1)[0];
        System.arraycopy(input, 0, ws.input(), ws.offset(), rows * inputs());
        int block = Workspace.unitBlock(this);
        for (int l = 0; l < layerCount(); l++) {
            int n = weightRows(l);
            int layer = l;
            if (n > block && Workspace.columnsSplittable(this, l)) {
                Predictions.POOL.forEach((n + block - 1) / block,
                        b -> ws.forwardColumns(this, transposed, layer, b * block, Math.min(n, (b + 1) * block), rows));
            } else {
                ws.forwardLayer(this, transposed, l, 0, rows);
            }
        }
        System.arraycopy(ws.output(), ws.offset(), out, 0, rows * outputs());
    }

    /** The workspaces of parallel predictions, at least {@code parts}; call under {@code Predictions.LOCK}. */
    private Workspace[] predictWorkspaces(int parts) {
        if (predictWorkspaces == null || predictWorkspaces.length < parts) {
            Workspace[] grown = java.util.Arrays.copyOf(predictWorkspaces == null ? new Workspace[0] : predictWorkspaces,
                    parts);
            for (int t = 0; t < parts; t++) {
                if (grown[t] == null) {
                    grown[t] = new Workspace(this, PREDICT_CHUNK);
                }
            }
            predictWorkspaces = grown;
        }
        return predictWorkspaces;
    }

    /** Rows per pass through a workspace of a prediction: a row's outputs never depend on how many there are. */
    private static final int PREDICT_CHUNK = 256;

    /** Workers for large predictions, shared by all networks; a caller that finds them busy works alone. */
    private static final class Predictions {
        static final Parallel POOL = new Parallel(Runtime.getRuntime().availableProcessors());
        static final java.util.concurrent.locks.ReentrantLock LOCK = new java.util.concurrent.locks.ReentrantLock();
    }

    /** Rows {@code [r0, r1)} through {@code ws}, {@link #PREDICT_CHUNK} at a time. */
    private void predictRows(float[] inputs, int r0, int r1, TransposedWeights transposed, Workspace ws, float[] out) {
        for (int r = r0; r < r1; r += PREDICT_CHUNK) {
            int n = Math.min(PREDICT_CHUNK, r1 - r);
            ws.forward(this, transposed, inputs, r * inputs(), n); // the first layer reads the rows in place
            System.arraycopy(ws.output(), ws.offset(), out, r * outputs(), n * outputs());
        }
    }

    /**
     * The index of the largest output for one input vector.
     *
     * @param input one row of features
     * @return the class
     */
    public int classify(float[] input) {
        return Workspace.argmax(predict(input), 0, outputs());
    }

    /**
     * A one-line description such as {@code 784-512:relu-10:softmax, loss ce, 535818 parameters}.
     *
     * @return the description
     */
    public String describe() {
        StringBuilder sb = new StringBuilder().append(sizes[0]);
        for (int l = 0; l < activations.length; l++) {
            sb.append('-').append(sizes[l + 1]).append(':').append(layerActivation(l).label());
        }
        sb.append(", loss ").append(loss.label()).append(", ").append(params.length).append(" parameters");
        return (inputScaling == null ? sb : sb.append(", ").append(inputScaling.kind()).append(" input scaling"))
                .toString();
    }

    static {
        NetworkInternals.register(new NetworkInternals.Access() {
            @Override
            public Kernels kernels(Network net) {
                return net.kernels;
            }

            @Override
            public TransposedWeights transposedWeights(Network net) {
                return net.transposedWeights();
            }

            @Override
            public int parameterVersion(Network net) {
                return net.parameterVersion;
            }

            @Override
            public Elementwise elementwise(Activation activation) {
                return activation.elementwise();
            }
        });
    }

    /** Builds a network layer by layer. */
    public static final class Builder {
        private final List<Integer> sizes = new ArrayList<>();
        private final List<Activation> activations = new ArrayList<>();
        private final List<Float> alphas = new ArrayList<>();
        private Loss loss;
        private Initializer initializer = Initializer.PYTORCH_DEFAULT;
        private Float biasValue;
        private long seed = 42;

        private Builder(int inputs) {
            sizes.add(inputs);
        }

        /**
         * Adds a dense layer of {@code units} units.
         *
         * @param units the layer's width
         * @param activation its activation, with α at its default
         * @return this builder
         */
        public Builder dense(int units, Activation activation) {
            return dense(units, LayerActivation.of(activation));
        }

        /**
         * Adds a dense layer whose activation has a parameter, e.g. {@code LayerActivation.parse("leaky_relu:0.2")}.
         *
         * @param units the layer's width
         * @param activation its activation and α
         * @return this builder
         */
        public Builder dense(int units, LayerActivation activation) {
            sizes.add(units);
            activations.add(activation.kind());
            alphas.add(activation.alpha());
            return this;
        }

        /**
         * The loss to train with (default: cross-entropy after softmax, else MSE).
         *
         * @param loss the loss
         * @return this builder
         */
        public Builder loss(Loss loss) {
            this.loss = loss;
            return this;
        }

        /**
         * How the weights start (default: PyTorch's for {@code nn.Linear}, uniform in ±1/√fan_in).
         *
         * @param initializer the initialiser
         * @return this builder
         */
        public Builder initializer(Initializer initializer) {
            this.initializer = initializer;
            return this;
        }

        /**
         * Starts every bias at {@code value} (e.g. 0) instead of the initialiser's choice.
         *
         * @param value every bias's first value
         * @return this builder
         */
        public Builder biases(float value) {
            if (!Float.isFinite(value)) {
                throw new IllegalArgumentException("initial bias must be a finite number, not " + value);
            }
            this.biasValue = value;
            return this;
        }

        /**
         * Seed of the initial weights.
         *
         * @param seed the seed (default 42)
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * The network, its parameters drawn by the initialiser from the seed.
         *
         * @return the network
         */
        public Network build() {
            if (activations.isEmpty()) {
                throw new IllegalArgumentException("a network needs at least one dense layer");
            }
            Activation out = activations.get(activations.size() - 1);
            Loss l = loss != null ? loss : out == Activation.SOFTMAX ? Loss.CROSS_ENTROPY : Loss.MSE;
            float[] a = new float[alphas.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = alphas.get(i);
            }
            Network net = new Network(sizes.stream().mapToInt(Integer::intValue).toArray(),
                    activations.toArray(new Activation[0]), a, l, null);
            SplittableRandom rng = new SplittableRandom(seed);
            for (int layer = 0; layer < net.layerCount(); layer++) {
                initializer.fill(net.params, net.weightOffsets[layer], net.biasOffsets[layer],
                        net.sizes[layer], net.weightRows(layer), rng.split());
                if (biasValue != null) {
                    Arrays.fill(net.params, net.biasOffsets[layer], net.biasOffsets[layer] + net.weightRows(layer),
                            biasValue);
                }
                if (net.hasSlopes(layer)) {
                    Arrays.fill(net.params, net.slopeOffsets[layer], net.slopeOffsets[layer] + net.sizes[layer + 1],
                            net.alphas[layer]);
                }
            }
            return net;
        }
    }
}
