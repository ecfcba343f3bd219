package bp.train;

import bp.data.Dataset;
import bp.engine.BatchGradient;
import bp.engine.TransposedWeights;
import bp.engine.Workspace;
import bp.kernel.Alignment;
import bp.kernel.Kernels;
import bp.kernel.Parallel;
import bp.nn.Network;

/**
 * One mini-batch step: the gradient of a batch and the optimizer's update, with every thread on
 * every matrix product.
 *
 * <p>The batch is cut into shards and groups as {@link BatchGradient} defines; each shard runs
 * through one workspace in phases that all threads share: the forward pass (wide hidden layers by
 * blocks of units over all rows, one phase each, the rest by blocks of rows) and the loss by blocks
 * of rows, then per layer (last first) its weight gradient by blocks of units and its input
 * gradient: by the same blocks of units (each block's product with its own weights, the products
 * added up in the next phase by blocks of the layer below's units, {@link Workspace#inputGradientChunk})
 * or, where that cannot be, by blocks of rows. Every value is computed the same way whichever
 * thread takes its block, so the result never depends on the thread count, and there is no
 * per-thread gradient buffer to add up. A layer's blocks go to the same thread in every phase
 * ({@link #phaseOwner}), and with the input gradient by blocks of units no other thread reads a
 * block's weights: they stay in one core's cache. When the batch is one shard (the default up to
 * {@link BatchGradient#defaultShardSize} rows) and nothing needs the whole gradient first
 * (clipping), the update is folded into the backward phases: a block of layer l is updated, and its
 * packed copy refreshed, by the task that last reads its weights while its gradient is still in
 * cache (layer 0's and the layers by blocks of units: right after their gradient, in the same
 * task, the block's weight gradient going to a small buffer of the thread's own instead of the
 * whole gradient), or else in the phase after its input gradient's rows. The update then needs no
 * pass of its own. In such a step an output layer whose input gradient goes by rows has no phase
 * of its own either: the forward pass's last phase computes that input gradient for each block of
 * rows right after its loss, and the next phase's tasks that update the output layer's blocks
 * compute their weight gradient first ({@link #outputGradientInForward}).
 */
final class Step implements TrainingStep {

    /**
     * Rows (units) per weight-gradient and update task of a layer whose input gradient goes by
     * chunks, and so a chunk of its input gradient (the others: {@link #UPDATE_BLOCK}): a block's
     * weights, gradients and state (400 KB for 128 rows of 784) stay in L2.
     * Measured with bp bench train on two threads (alternating runs, Zen 5): 128 rows beat 64 by 4 %
     * at batch 128 and 10 % at batch 32; 32 and 256 rows were slower.
     */
    static final int ROWS_PER_BLOCK = Workspace.INPUT_GRADIENT_CHUNK;

    /**
     * Units per piece of a block's weight gradient and update when one task does both, in shards
     * of at most {@link #PIECES_MAX_ROWS} rows: a piece's gradient, weights and packed copy (600 KB
     * for 64 rows of 784) fit in L2 beside a small shard's input (100 KB at 32 rows), a block's
     * (1.2 MB) do not on Zen 5's 1 MB L2. Measured in one JVM, alternating epochs, 6 rounds: batch
     * 32 on two threads +3 to +5 % (SGD and Adam; pieces of 16 and 32 units gave the same), one
     * thread -1 %.
     */
    static final int UPDATE_PIECE = 64;

    /**
     * The largest shard whose blocks are updated in pieces: at 128 rows the input alone is 400 KB,
     * and pieces measured from +1 % to -7 % (pieces of 16 units: -2 to -6 %).
     */
    static final int PIECES_MAX_ROWS = 64;

    private final Network net;
    private final Dataset data;
    private final int[] order;
    private final int shard;
    private final int groups;
    /** The shards' workspace (local gradients only). */
    private final Workspace ws;
    /**
     * One gradient buffer per group; grads[0] ends up holding the batch's sum, except in a fused
     * step the weights of the layers updated in their own phase (see {@link #weightGradientBlocks}).
     */
    private final float[][] grads;
    /**
     * Each thread's buffer for the weight gradient of the block it is about to update, in a fused
     * step's layers that update in their own phase: from a cache line ({@link Alignment#ORIGIN}),
     * where the GEMM's stores of C cost less than at the parameters' layout 16 bytes off one, and
     * the same few hundred KB every time, so that they stay in L2 instead of making a 2 MB gradient
     * go to L3 and back each step. One JVM alternating runs of bp bench train (Intel Xeon, 4 and 3
     * pairs): batch 128 +3 % on one thread and on two, batch 32 on two +8 %.
     */
    private final float[][] weightGradientBlocks;
    private final double[] groupLoss;
    private final int[] blockCorrect;
    private final Parallel parallel;
    private final Parallel.Job phaseJob;
    private final Parallel.Job updateJob;
    private final Parallel.Job sumJob;
    private final Parallel.Job applyJob;
    /** Largest L2 norm of the mean gradient, 0 for no clipping. */
    private final double clipNorm;
    private final double[] blockSquares;
    /** The blocks of weight rows (units) of each layer, layers in order: chunks of the input gradient, or {@link #UPDATE_BLOCK}'s. */
    private final int[] blockLayer;
    private final int[] blockRow;
    private final int[] blockEnd;
    /** First block of each layer, and one past the last layer's. */
    private final int[] layerBlock;
    /** Shards of a few rows go faster as dot products than through transposed weights refreshed every step. */
    private final TransposedWeights transposed;
    /** Where the gradients come from when not from this JVM; null for here. */
    private final GradientSource.Run remote;
    private final StepProfile profile;
    /**
     * Whether this step runs its phases on the calling thread alone. Batches below
     * {@link BatchGradient#TRANSPOSED_MIN_BATCH} rows on several threads ({@link #fewRows}) are a
     * few microseconds of work a phase, and whether all threads do them faster depends on what
     * handing a cache line to the other core costs, which on these VMs moves between 20 and 200 ns
     * from one minute to the next (bp bench train --batch 1 on two threads: Zen 3 at 26-45 ns,
     * 10.7-15.2 k samples/s against 7.0-8.6 k alone; Zen 5 at 200 ns, 4.3 k against 6.3 k). So
     * such steps time both ways now and then ({@link #chooseMode}) and take the faster. Both give
     * the same bits.
     */
    private boolean serial;
    private final boolean fewRows;
    private long fewRowSteps;
    private long serialNanos;
    private long parallelNanos;
    /** Every this many steps of a few rows, the first {@link #TRIAL_STEPS} time both ways, {@link #TRIAL_BLOCK} steps each in turn. */
    static final int TRIAL_PERIOD = 4096;
    static final int TRIAL_STEPS = 128;
    static final int TRIAL_BLOCK = 8;

    /**
     * Layers whose input gradient is computed a chunk of their units at a time, each chunk in the
     * task of the same block of units ({@link Workspace#inputGradientByChunks}): then no other task
     * reads the block's weights, which stay in the owner's cache, and the block can be updated in
     * that task. The others' input gradient goes by blocks of rows, which read all of the weights.
     */
    private final boolean[] byChunks;

    // the current phase: which layer's gradients, which layer to update (-1: none), whether the
    // layer's weight-gradient tasks also update their block, and the shard it works on
    private int phaseLayer;
    private int updateLayer;
    private boolean selfUpdate;
    /**
     * Whether the fused update takes each layer's weight gradient straight from the shard's one
     * sample (its δ and input, an outer product) instead of from {@link #grads}: with plain SGD at
     * batch 1 that spares writing the gradient and reading it back, two of the three passes over
     * memory that dominate a step of one sample. Layer l's δ and input are still intact in the
     * phase after its own, where it is updated.
     */
    private boolean outerUpdate;
    /**
     * Whether the current shard's last forward phase, by blocks of rows, also computes the output
     * layer's input gradient for its rows, where it can ({@link #outputGradientEarly}): the output
     * layer's backward phase then has only its weight gradient left, which the next phase's tasks
     * that update the output layer compute first, and the step has one phase fewer. Same bits.
     * One JVM alternating 100 steps with and without it (bp bench train, two threads, Zen 5): batch
     * 32 +1.6 % and +0.5 %, batch 128 +0.5 % and +0.8 %.
     */
    private boolean outputGradientInForward;
    /** What the current phase's tasks are: one of the constants below. */
    private int phaseKind;
    private static final int BACKWARD = 0;
    /** Rows: gather, forward through every layer, loss. */
    private static final int FORWARD_ROWS = 1;
    /** Rows: gather. */
    private static final int GATHER = 2;
    /** Units of layer {@link #phaseLayer}: its forward pass for all rows. */
    private static final int LAYER_UNITS = 3;
    /** Rows: the forward pass of layer {@link #phaseLayer} (the last), and the loss. */
    private static final int LAST_LAYER_ROWS = 4;
    /** Rows: the forward pass of layer {@link #phaseLayer}, not the last. */
    private static final int LAYER_ROWS = 5;
    /**
     * The current phase's, new for each: its tasks on one thread share one copy of the layer's
     * input (the forward pass's blocks of units, the weight gradient's).
     */
    private long phaseToken;
    /** Each layer's forward tasks when shared out by units: boundaries ({@link Workspace#unitTasks}). */
    private final int[][] unitTasks;

    private int shardFrom;
    private int shardRows;
    private float[] shardGrad;
    private boolean shardAccumulate;
    // the current update
    private int used;
    private final Optimizer.State state;
    private float scale;
    private double lr;
    private final boolean updateBiases;
    /** Correctly classified samples of the last batch. */
    private long correct;

    Step(Network net, Dataset data, int[] order, Optimizer.State state, boolean updateBiases, int batch, int shard,
         double clipNorm, Parallel parallel, GradientSource.Run remote, StepProfile profile) {
        this.net = net;
        this.state = state;
        this.updateBiases = updateBiases;
        this.data = data;
        this.order = order;
        this.shard = shard;
        this.remote = remote;
        this.profile = profile;
        if (profile != null) {
            profile.threads(parallel.threads());
        }
        this.groups = BatchGradient.groups(batch, shard);
        this.ws = remote == null ? new Workspace(net, Math.min(shard, batch)) : null;
        this.grads = new float[groups][];
        for (int g = 0; g < groups; g++) {
            grads[g] = new float[net.parameterCount()];
        }
        this.groupLoss = new double[groups];
        this.blockCorrect = new int[Workspace.rowBlocks(Math.min(shard, batch))];
        this.parallel = parallel;
        this.fewRows = !BatchGradient.usesTransposedWeights(batch) && parallel.threads() > 1 && remote == null;
        this.serial = !BatchGradient.usesTransposedWeights(batch);
        this.transposed = BatchGradient.usesTransposedWeights(batch) && remote == null
                ? new TransposedWeights(net, batch, parallel.threads() == 1) : null;
        int layers = net.layerCount();
        this.byChunks = new boolean[layers];
        for (int l = 1; l < layers; l++) {
            // layer l's chunks are added up by layer l − 1's blocks of units, so no row task of that
            // phase may read layer l − 1's ∂L/∂z: it must have no input gradient, or one by chunks too
            byChunks[l] = Workspace.inputGradientByChunks(net, l) && (l == 1 || byChunks[l - 1]);
        }
        this.unitTasks = new int[layers][];
        this.layerBlock = new int[layers + 1];
        int[][] blockBounds = new int[layers][];
        for (int l = 0; l < layers; l++) {
            unitTasks[l] = Workspace.unitTasks(net, l, parallel.threads(), Workspace.unitTask(net));
            // clipping sums the gradient's squares block by block, in double: that layout must not
            // depend on the thread count, or the norm's last bits could
            blockBounds[l] = byChunks[l] ? evenBounds(net.weightRows(l), ROWS_PER_BLOCK)
                    : clipNorm > 0 ? evenBounds(net.weightRows(l), UPDATE_BLOCK)
                    : Workspace.unitTasks(net, l, parallel.threads(), UPDATE_BLOCK);
            layerBlock[l + 1] = layerBlock[l] + blockBounds[l].length - 1;
        }
        int blocks = layerBlock[layers];
        this.blockLayer = new int[blocks];
        this.blockRow = new int[blocks];
        this.blockEnd = new int[blocks];
        for (int l = 0, t = 0; l < layers; l++) {
            for (int b = 0; b + 1 < blockBounds[l].length; b++, t++) {
                blockLayer[t] = l;
                blockRow[t] = blockBounds[l][b];
                blockEnd[t] = blockBounds[l][b + 1];
            }
        }
        this.phaseJob = parallel.job(this::phaseTask, this::phaseOwner);
        this.updateJob = parallel.job(this::updateBlock, this::blockOwner);
        this.sumJob = parallel.job(this::sumBlock, this::blockOwner);
        this.applyJob = parallel.job(this::applyBlock, this::blockOwner);
        this.clipNorm = clipNorm;
        this.blockSquares = new double[blocks];
        int largest = 0; // the largest block a fused step updates in its own phase; none without fused steps
        for (int t = 0; t < blocks; t++) {
            if (remote == null && clipNorm <= 0 && updatesInOwnPhase(blockLayer[t])) {
                largest = Math.max(largest, (blockEnd[t] - blockRow[t]) * net.size(blockLayer[t]));
            }
        }
        this.weightGradientBlocks = new float[parallel.threads()][];
        for (int i = 0; i < weightGradientBlocks.length; i++) {
            weightGradientBlocks[i] = new float[Alignment.ORIGIN + largest];
        }
    }

    /**
     * The most units per block of a layer whose input gradient does not go by chunks (layer 0,
     * which has none), cut as {@link Workspace#unitTasks} (with clipping, in even blocks of this
     * many, the same for any thread count): each block is a task of its weight
     * gradient and update, and with several per thread the thread that finishes first takes over
     * the other's last. The blocks of a layer share one copy of its input's panels per thread (the
     * phase's token), so smaller blocks copy no more. Batch 128 on two threads (Zen 3, four
     * alternating runs each): the threads' wait at the end of layer 0's backward phase 130 µs a
     * step with blocks of 128 units, 90 with 64, 81 with 32; busy time unchanged.
     */
    static final int UPDATE_BLOCK = 64;

    /**
     * Boundaries of a layer's units in blocks of {@code size} from unit 0 (the last may be shorter):
     * the chunks of its input gradient, or any thread count's blocks.
     */
    private static int[] evenBounds(int units, int size) {
        int[] bounds = new int[ceilDiv(units, size) + 1];
        for (int b = 1; b < bounds.length; b++) {
            bounds[b] = Math.min(units, b * size);
        }
        return bounds;
    }

    /** Computes the gradient of rows {@code order[from, from + size)} and applies the optimizer. */
    @Override
    public double train(int epoch, long batchFrom, int size, double lr) {
        if (fewRows) {
            chooseMode();
            long start = System.nanoTime();
            double loss = trainBatch(batchFrom, size, lr);
            timed(System.nanoTime() - start);
            return loss;
        }
        if (transposed == null) {
            return trainBatch(batchFrom, size, lr);
        }
        transposed.refreshIfChanged(); // the parameters may have been set between steps (a listener may)
        double loss = trainBatch(batchFrom, size, lr);
        transposed.refreshedAll(); // the update re-packed each block it wrote
        return loss;
    }

    /** Sets {@link #serial} for the next step of a few rows: in turns during a trial, then the faster of the last trial. */
    private void chooseMode() {
        int at = (int) (fewRowSteps % TRIAL_PERIOD);
        if (at < TRIAL_STEPS) {
            serial = at / TRIAL_BLOCK % 2 == 0;
        } else if (at == TRIAL_STEPS) {
            serial = serialNanos <= parallelNanos;
            serialNanos = 0;
            parallelNanos = 0;
        }
    }

    private void timed(long nanos) {
        if (fewRowSteps++ % TRIAL_PERIOD < TRIAL_STEPS) {
            if (serial) {
                serialNanos += nanos;
            } else {
                parallelNanos += nanos;
            }
        }
    }

    private double trainBatch(long batchFrom, int size, double lr) {
        int from = (int) batchFrom; // the rows are in an array
        this.lr = lr;
        this.scale = 1f / size;
        double loss;
        if (remote != null) {
            GradientSource.Result r = remote.gradient(net, order, from, size, grads);
            used = r.blocks();
            correct = r.correct();
            loss = 0;
            for (double l : r.groupLosses()) {
                loss += l; // in group order, as below
            }
            update(size);
            return loss;
        }
        int shards = ceilDiv(size, shard);
        used = Math.min(shards, groups);
        boolean fused = shards == 1 && clipNorm <= 0;
        if (fused) {
            state.begin();
        }
        correct = 0;
        for (int g = 0; g < used; g++) {
            groupLoss[g] = 0;
            int first = g * shards / used;
            for (int s = first; s < (g + 1) * shards / used; s++) {
                int rowFrom = from + s * shard;
                groupLoss[g] += shard(rowFrom, Math.min(shard, from + size - rowFrom), grads[g], s != first, fused);
            }
        }
        loss = 0;
        for (int g = 0; g < used; g++) {
            loss += groupLoss[g];
        }
        if (fused) {
            net.parametersChanged();
        } else {
            update(size);
        }
        return loss;
    }

    /** One shard through the workspace; with {@code fused}, also the update. Returns the shard's summed loss. */
    private double shard(int rowFrom, int rows, float[] grad, boolean accumulate, boolean fused) {
        shardFrom = rowFrom;
        shardRows = rows;
        shardGrad = grad;
        shardAccumulate = accumulate;
        int rowBlocks = Workspace.rowBlocks(rows);
        int last = net.layerCount() - 1;
        boolean byUnits = forwardByUnits();
        outputGradientInForward = fused && byUnits && outputGradientEarly();
        forward(rowBlocks, byUnits);
        for (int b = 0; b < rowBlocks; b++) {
            correct += blockCorrect[b];
        }
        phaseKind = BACKWARD;
        ws.finishOutputGradient(net, rows, grad, accumulate);
        outerUpdate = fused && rows == 1 && state.appliesOuterProducts();
        for (int l = last; l >= 0; l--) {
            phaseLayer = l;
            phaseToken = Kernels.newToken();
            selfUpdate = fused && updatesInOwnPhase(l);
            updateLayer = fused && l < last && !updatesInOwnPhase(l + 1) ? l + 1 : -1;
            int tasks = layerBlock[l + 1] - layerBlock[l] + inputGradientTasks(l);
            if (updateLayer >= 0) {
                tasks += layerBlock[updateLayer + 1] - layerBlock[updateLayer];
            }
            if (l < last || !outputGradientInForward) {
                runPhase(StepProfile.backward(l), tasks);
            }
            if (l > 0 && !Workspace.rowWiseBackward(net, l - 1)) {
                ws.activationBackward(net, l - 1, rows, grad, accumulate);
            }
        }
        return ws.lossSum(rows);
    }

    /**
     * Whether layer l, in a fused step, is updated by its own backward phase: its weight-gradient
     * tasks are the last to read its weights (layer 0, which has no input gradient, and the layers
     * by chunks). The others are updated in the next phase, after their input gradient's row tasks.
     */
    private boolean updatesInOwnPhase(int l) {
        return l == 0 || byChunks[l];
    }

    /**
     * The forward pass and the loss of the shard. Hidden layers that can be are shared out by
     * blocks of units over all rows, one phase per layer, so that every core reads its part of the
     * weights once per step and copies the layer's input once (its tasks share one token);
     * otherwise, and in the steps of a few rows that run on one thread, by blocks of rows through
     * all layers. On one thread too by units: by rows, each block of rows reads all of a layer's
     * packed weights again (four times a step, 1.6 MB each for 784-512), where a block of units
     * reads its own once. One JVM alternating epochs of 30 000 samples, one thread (Zen 5):
     * batch 32 +5.3 % and +6.9 % (30 and 20 pairs), batch 16, 48, 64 and 128 +0.6 to +1.2 %,
     * batch 256 -0.6 % (16 pairs, 6 above 1). {@code byUnits}: {@link #forwardByUnits()}, which the
     * shard has already asked.
     */
    private void forward(int rowBlocks, boolean byUnits) {
        int last = net.layerCount() - 1;
        if (!byUnits) {
            phaseKind = FORWARD_ROWS;
            runPhase(StepProfile.FORWARD, rowBlocks);
            return;
        }
        phaseKind = GATHER;
        runPhase(StepProfile.FORWARD, rowBlocks);
        for (int l = 0; l < last; l++) {
            phaseLayer = l;
            phaseKind = byUnits(l) ? LAYER_UNITS : LAYER_ROWS;
            phaseToken = Kernels.newToken();
            runPhase(StepProfile.FORWARD, byUnits(l) ? unitTasks[l].length - 1 : rowBlocks);
        }
        phaseLayer = last;
        phaseKind = LAST_LAYER_ROWS;
        runPhase(StepProfile.FORWARD, rowBlocks);
    }

    /** Whether the forward pass goes a phase per layer, some layer by blocks of units (else by blocks of rows through all layers). */
    private boolean forwardByUnits() {
        if (serial) {
            return false;
        }
        for (int l = 0; l < net.layerCount() - 1; l++) {
            if (byUnits(l)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the output layer's input gradient can be computed in the forward pass's last phase,
     * row block by row block right after the loss (see {@link #outputGradientInForward}): it goes
     * by rows (not by chunks of its units, which is how a wide output layer keeps its weights with
     * their owner), and the loss leaves the output layer's ∂L/∂z final row by row. A step of
     * 784-512-256-10 at batch 128 on two threads then skips a phase of 23-26 µs, in which the
     * threads waited 10-13 µs for each other (bp bench train --profile, Zen 5): the 10-unit layer's
     * whole backward pass is 18 µs of work on one thread.
     */
    private boolean outputGradientEarly() {
        int last = net.layerCount() - 1;
        return last > 0 && !byChunks[last] && Workspace.outputGradientByRows(net);
    }

    /** Whether layer l's forward pass, with several threads, is shared out by blocks of units. */
    private boolean byUnits(int l) {
        return Workspace.columnsSplittable(net, l) && net.weightRows(l) > Workspace.unitBlock(net);
    }

    /** First row of row block b of the current shard. */
    private int blockStart(int b) {
        return b * Workspace.rowBlock(shardRows);
    }

    /** One past the last row of row block b of the current shard. */
    private int blockEnd(int b) {
        return Math.min(shardRows, (b + 1) * Workspace.rowBlock(shardRows));
    }

    private void runPhase(int phase, int tasks) {
        long start = profile == null ? 0 : System.nanoTime();
        run(phaseJob, tasks);
        if (profile != null) {
            profile.phase(phase, System.nanoTime() - start);
        }
    }

    /** Task i of the current phase. */
    private void phaseTask(int i) {
        long start = profile == null ? 0 : System.nanoTime();
        switch (phaseKind) {
            case BACKWARD -> backwardTask(i);
            case FORWARD_ROWS -> forwardBlock(i, start);
            case GATHER -> gather(i, start);
            case LAYER_UNITS -> {
                ws.forwardColumns(net, transposed, phaseLayer, unitTasks[phaseLayer][i], unitTasks[phaseLayer][i + 1],
                        shardRows, phaseToken);
                partDone(StepProfile.forwardLayer(phaseLayer), start);
            }
            case LAYER_ROWS -> {
                ws.forwardLayer(net, transposed, phaseLayer, blockStart(i), blockEnd(i));
                partDone(StepProfile.forwardLayer(phaseLayer), start);
            }
            default -> {
                ws.forwardLayer(net, transposed, phaseLayer, blockStart(i), blockEnd(i));
                long t = score(i, partDone(StepProfile.forwardLayer(phaseLayer), start));
                if (outputGradientInForward) {
                    ws.inputGradientRows(net, phaseLayer, blockStart(i), blockEnd(i));
                    partDone(StepProfile.outputInputGradient(net.layerCount()), t);
                }
            }
        }
        if (profile != null) {
            profile.busy(phaseKind == BACKWARD ? StepProfile.backward(phaseLayer) : StepProfile.FORWARD,
                    parallel.threadIndex(), System.nanoTime() - start);
        }
    }

    /**
     * The thread that task i of the current phase is first offered to. A layer's units are dealt
     * out in the same proportion in every phase (its forward pass, its weight gradient, its update
     * and the refresh of its packed copy), so a block of weights, its gradient and its packed copy
     * stay in one core's cache from step to step instead of crossing to the other core.
     */
    private int phaseOwner(int i) {
        return switch (phaseKind) {
            case LAYER_UNITS -> unitOwner(phaseLayer, unitTasks[phaseLayer][i]);
            case BACKWARD -> {
                int l = phaseLayer;
                int unitTasks = layerBlock[l + 1] - layerBlock[l];
                if (i < unitTasks) {
                    yield blockOwner(layerBlock[l] + i);
                }
                int rowTasks = inputGradientTasks(l);
                yield i - unitTasks < rowTasks ? rowOwner(i - unitTasks, rowTasks)
                        : blockOwner(layerBlock[updateLayer] + i - unitTasks - rowTasks);
            }
            default -> rowOwner(i, Workspace.rowBlocks(shardRows));
        };
    }

    /** The owner of weight block t: see {@link #phaseOwner}. */
    private int blockOwner(int t) {
        return unitOwner(blockLayer[t], blockRow[t]);
    }

    private int unitOwner(int l, int unit) {
        return (int) ((long) unit * parallel.threads() / net.weightRows(l));
    }

    private int rowOwner(int b, int blocks) {
        return b * parallel.threads() / blocks;
    }

    /** Gathers, runs forward through every layer and scores one block of rows; the profile's parts from {@code start}. */
    private void forwardBlock(int b, long start) {
        long t = gather(b, start);
        for (int l = 0; l < net.layerCount(); l++) {
            ws.forwardLayer(net, transposed, l, blockStart(b), blockEnd(b));
            t = partDone(StepProfile.forwardLayer(l), t);
        }
        score(b, t);
    }

    /** Gathers the input of row block b; returns {@link #partDone}'s time. */
    private long gather(int b, long start) {
        BatchGradient.gather(data, order, shardFrom, blockStart(b), blockEnd(b), ws);
        return partDone(StepProfile.GATHER, start);
    }

    /** The loss and the correct classifications of row block b, after its forward pass; returns {@link #partDone}'s time. */
    private long score(int b, long start) {
        ws.lossRows(net, blockStart(b), blockEnd(b));
        blockCorrect[b] = data.isClassification() ? ws.countCorrect(blockStart(b), blockEnd(b), net.outputs()) : 0;
        return partDone(StepProfile.loss(net.layerCount()), start);
    }

    /**
     * Adds the time since {@code start} to forward part {@code part} of the profile, when there is
     * one, and returns the time now (the next part's start); 0 without a profile.
     */
    private long partDone(int part, long start) {
        if (profile == null) {
            return 0;
        }
        long now = System.nanoTime();
        profile.forwardPart(part, now - start);
        return now;
    }

    /**
     * The blocks of units of the phase's layer first (the biggest tasks), then its input-gradient
     * rows, then updates. A block of units finishes its ∂L/∂z when the layer above summed its input
     * gradient by chunks, then takes its chunk of the input gradient, its weight gradient and its
     * update, as the phase has them: gradient and update a piece of {@link #UPDATE_PIECE} units at a
     * time in small shards, so that a piece's gradient, weights and packed copy are still in L2 when
     * the update reads them.
     */
    private void backwardTask(int i) {
        int l = phaseLayer;
        int unitTasks = layerBlock[l + 1] - layerBlock[l];
        if (i < unitTasks) {
            int t = layerBlock[l] + i;
            int r0 = blockRow[t];
            int r1 = blockEnd[t];
            if (l + 1 < net.layerCount() && byChunks[l + 1]) {
                ws.finishInputGradientColumns(net, l + 1, r0, r1, shardRows);
            }
            if (byChunks[l]) {
                ws.inputGradientChunk(net, l, i, shardRows); // before the update: the old weights
            }
            int piece = selfUpdate && !outerUpdate && shardRows <= PIECES_MAX_ROWS ? UPDATE_PIECE : r1 - r0;
            for (int s0 = r0; s0 < r1; s0 += piece) {
                int s1 = Math.min(r1, s0 + piece);
                if (outerUpdate) {
                    ws.biasGradient(net, l, s0, s1, shardRows, shardGrad, shardAccumulate); // the weights' in applyRows
                    if (selfUpdate) {
                        applyRows(l, s0, s1, null, 0);
                    }
                } else if (selfUpdate) {
                    float[] block = weightGradientBlocks[parallel.threadIndex()];
                    ws.weightGradientRows(net, l, s0, s1, shardRows, block, Alignment.ORIGIN, false, phaseToken);
                    ws.biasGradient(net, l, s0, s1, shardRows, shardGrad, shardAccumulate);
                    applyRows(l, s0, s1, block, Alignment.ORIGIN);
                } else {
                    ws.weightGradient(net, l, s0, s1, shardRows, shardGrad, shardAccumulate, phaseToken);
                }
            }
            return;
        }
        i -= unitTasks;
        int rowTasks = inputGradientTasks(l);
        if (i < rowTasks) {
            ws.inputGradientRows(net, l, blockStart(i), blockEnd(i));
            return;
        }
        int t = layerBlock[updateLayer] + i - rowTasks;
        if (outputGradientInForward && updateLayer == net.layerCount() - 1) {
            // the output layer's backward phase was skipped: its block's weight gradient, as that phase computed it
            ws.weightGradient(net, updateLayer, blockRow[t], blockEnd[t], shardRows, shardGrad, shardAccumulate);
        }
        applyBlock(t);
    }

    /**
     * Layer l's input-gradient tasks in its backward phase, one per block of rows of the shard
     * (none for layer 0). A backward phase's tasks are layer l's weight blocks, then these, then
     * the blocks of the layer it updates.
     */
    private int inputGradientTasks(int l) {
        return l > 0 && !byChunks[l] ? Workspace.rowBlocks(shardRows) : 0;
    }

    /**
     * Applies the optimizer to the gradient in {@link #grads} ({@link #used} groups), in one
     * parallel pass over blocks of rows: each task sums the groups' gradients for its rows, updates
     * them and refreshes their transposed copy while they are in cache.
     */
    private void update(int batch) {
        state.begin();
        if (clipNorm > 0) {
            // the mean gradient's global L2 norm needs every block summed before any is applied
            runBlocks(sumJob);
            double squares = 0;
            for (double s : blockSquares) {
                squares += s; // in block order: the same sum for any thread count
            }
            double norm = Math.sqrt(squares) / batch;
            if (norm > clipNorm) {
                scale = (float) (clipNorm / (norm + 1e-6) / batch); // as PyTorch's clip_grad_norm_
            }
            runBlocks(applyJob);
        } else {
            runBlocks(updateJob);
        }
        net.parametersChanged();
    }

    private void runBlocks(Parallel.Job job) {
        long start = profile == null ? 0 : System.nanoTime();
        run(job, blockLayer.length);
        if (profile != null) {
            profile.phase(StepProfile.UPDATE, System.nanoTime() - start);
        }
    }

    private void run(Parallel.Job job, int tasks) {
        if (serial) {
            for (int i = 0; i < tasks; i++) {
                job.body().accept(i);
            }
        } else {
            parallel.run(job, tasks);
        }
    }

    private void updateBlock(int t) {
        sumBlock(t);
        applyBlock(t);
    }

    /** Sums the groups' gradients for block t into grads[0], and with clipping its squares into blockSquares[t]. */
    private void sumBlock(int t) {
        int l = blockLayer[t];
        int r0 = blockRow[t];
        int r1 = blockEnd[t];
        int fanIn = net.size(l);
        int w = net.weightOffset(l) + r0 * fanIn;
        int b = net.biasOffset(l) + r0;
        // grads[0] = Σ grads[0..used) pairwise: (0+1)+(2+3), then those sums, etc. A fixed order.
        BatchGradient.treeSum(grads, used, w, (r1 - r0) * fanIn);
        BatchGradient.treeSum(grads, used, b, r1 - r0);
        int s = net.hasSlopes(l) ? net.slopeOffset(l) + r0 : -1;
        if (s >= 0) {
            BatchGradient.treeSum(grads, used, s, r1 - r0);
        }
        if (clipNorm > 0) {
            float[] g = grads[0];
            double squares = sumOfSquares(g, w, (r1 - r0) * fanIn) + sumOfSquares(g, b, r1 - r0);
            blockSquares[t] = s >= 0 ? squares + sumOfSquares(g, s, r1 - r0) : squares;
        }
    }

    private static double sumOfSquares(float[] g, int off, int len) {
        double squares = 0;
        for (int i = off; i < off + len; i++) {
            squares += (double) g[i] * g[i];
        }
        return squares;
    }

    /** Applies the optimizer to block t from {@link #grads}[0] and refreshes its transposed copy. */
    private void applyBlock(int t) {
        int l = blockLayer[t];
        int r0 = blockRow[t];
        applyRows(l, r0, blockEnd[t], grads[0], net.weightOffset(l) + r0 * net.size(l));
    }

    /**
     * Applies the optimizer to rows (units) {@code [r0, r1)} of layer l and refreshes their
     * transposed copy: their weights' gradient in {@code weightGrad} from {@code wOff} (rows
     * {@code net.size(l)} apart; with {@link #outerUpdate}, none: the shard's δ and input), the
     * biases' in {@link #grads}[0].
     */
    private void applyRows(int l, int r0, int r1, float[] weightGrad, int wOff) {
        if (outerUpdate) {
            state.applyOuterRows(net, ws.layerDelta(l), ws.offset(), ws.layerInput(l), ws.offset(), scale, lr, l, r0, r1);
        } else {
            state.applyWeightRows(net, weightGrad, wOff, scale, lr, l, r0, r1);
        }
        state.applyBiasRows(net, grads[0], scale, lr, updateBiases, l, r0, r1);
        if (transposed != null) {
            transposed.refreshRows(l, r0, r1);
        }
    }

    @Override
    public long correct() {
        return correct;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
