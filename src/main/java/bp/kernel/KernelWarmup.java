package bp.kernel;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs the kernels on small inputs, through each of their code paths, so that the JIT compiles
 * them before real work reaches them: every kernel, or those a run names ({@link Needs}).
 *
 * <p>Why: until C2 compiles a Vector API kernel, every vector operation runs as a boxed Java
 * fallback, a hundred times slower than the compiled loop. On a real network each kernel only
 * reaches its compile threshold after hundreds of slow full-size calls, one kernel after another,
 * and the JIT meanwhile spends its time compiling the fallback code itself: the first epoch of
 * the default training ran at a fifth of the speed of the others. Small calls reach the
 * thresholds in a fraction of the time, on a thread of their own while the data loads.
 *
 * <p>Each code path is taken, because C2 compiles a branch never taken so far as a trap that
 * throws the compiled code away when it is first taken (then compiles the kernel again).
 * Kernels are pure functions of their arguments: warming up changes no result.
 */
public final class KernelWarmup {
    /**
     * Calls of each kernel. With {@code -XX:CompileCommand=CompileThresholdScaling,bp.kernel.VectorKernels::*,0.05}
     * (which {@code tools/bp} passes) C2 compiles a kernel after 30 to 250 calls; without the flag
     * these rounds still compile them with C1 and bring C2 closer.
     */
    static final int ROUNDS = 300;

    /**
     * The kernels a run calls besides those every run calls (the products, transposes and copies):
     * its activations of one value at a time, those it computes by rows, and its update rule.
     * Warming up only these saves C2 the compiles of the others, which would otherwise still be
     * queued when the first epoch starts and take the cores from it. The default network's
     * {@code tools/bp train --epochs 2}, eight alternating runs: loaded in 1.2-1.4 s instead of
     * 1.4-1.9 s, 3.5-4.2 s from start to end instead of 4.0-4.4 s.
     *
     * @param elementwise the activations of one value at a time
     * @param byRows the activations computed a row or a unit at a time
     * @param updates the optimizer's update rules
     */
    public record Needs(Set<Elementwise> elementwise, Set<RowActivation> byRows, Set<Update> updates) {
        /** Every kernel: for a JVM that does not know what it will train (bp-spark's executors). */
        public static final Needs ALL = new Needs(EnumSet.allOf(Elementwise.class), EnumSet.allOf(RowActivation.class),
                EnumSet.allOf(Update.class));

        public Needs {
            elementwise = frozen(elementwise, Elementwise.class);
            byRows = frozen(byRows, RowActivation.class);
            updates = frozen(updates, Update.class);
        }

        /** In the enum's order, so that the warm-up calls the kernels in the same order every run. */
        private static <E extends Enum<E>> Set<E> frozen(Set<E> set, Class<E> type) {
            EnumSet<E> copy = EnumSet.noneOf(type);
            copy.addAll(set);
            return Collections.unmodifiableSet(copy);
        }
    }

    /** Activations with kernels of their own that work by rows or units rather than value by value. */
    public enum RowActivation { SOFTMAX, PRELU, MAXOUT }

    /** The update rules, each with its kernels. */
    public enum Update { SGD, MOMENTUM, ADAM, RMSPROP }

    private static FutureTask<Void> once;

    /** Rows of the warm-up's gathers, in a shuffled order. */
    private static final int[] GATHER_ORDER = {5, 0, 9, 2, 7, 1, 8, 3, 6, 4, 10};

    private KernelWarmup() {
    }

    /** {@return this JVM's warm-up}, started with {@code needs} unless one has started already */
    private static synchronized FutureTask<Void> begin(Needs needs) {
        if (once == null) {
            once = new FutureTask<>(() -> exercise(Kernels.get(), ROUNDS, needs), null);
            Thread t = new Thread(once, "bp-kernel-warmup");
            t.setDaemon(true);
            t.start();
        }
        return once;
    }

    /** Starts the warm-up of every kernel on a daemon thread, once per JVM; returns at once. */
    public static void start() {
        begin(Needs.ALL);
    }

    /**
     * Starts the warm-up of the kernels {@code needs} names on a daemon thread, unless a warm-up
     * has started in this JVM; returns at once.
     */
    public static void start(Needs needs) {
        begin(needs);
    }

    /** {@return whether the warm-up has started in this JVM} */
    public static synchronized boolean started() {
        return once != null;
    }

    /** Starts the warm-up of every kernel unless a warm-up has started, and waits until it has finished. */
    public static void await() {
        FutureTask<Void> task = begin(Needs.ALL);
        try {
            task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException("kernel warm-up failed", e.getCause());
        }
    }

    /**
     * Calls every kernel of {@code k} that {@code needs} names (and those every run calls)
     * {@code rounds} times on shapes that take all of its branches.
     */
    static void exercise(Kernels k, int rounds, Needs needs) {
        int w = k.panelWidth();
        // columns: whole panels, then blocks of half and a quarter of a panel, then a scalar tail;
        // rows: 15 = two blocks of 6 (AVX-512) or three of 4, then a pair and a single row; 8 = 4 + 4.
        // Without a pair (13 rows) the 2-row blocks ran interpreted in the first epoch's evaluation
        // and were compiled only then (JFR, Zen 5: block2x4 at C1 1 s into training, C2 after)
        int n = w + w / 2 + w / 4 + 3;
        int depth = w / 2 + 3;
        int[] rowCounts = {15, 8};
        int size = 4 * n * depth;
        float[] a = values(size, 1);
        float[] b = values(size, 2);
        float[] c = new float[size];
        float[] d = values(size, 3);
        float[] e = new float[size];
        float[] bias = values(n, 4);
        float[] packed = new float[n * depth];
        float[] weightBlocks = new float[n * depth];
        float[] predictionRows = values(64 * depth, 7);
        float[] predictionOut = new float[64 * w];
        float[] delta = new float[size];
        float[] param = new float[size];
        float[] moment1 = new float[size];
        float[] moment2 = new float[size];
        k.packRows(b, 0, n, depth, 0, n, packed, 0);
        // a B whose rows are 256 floats apart, read by enough rows of C to be copied panel by panel
        float[] strided = values(depth * 256, 5);
        float[] wide = new float[24 * 256];
        // a whole layer's columns: whole panels, the vectors of a tail and a scalar rest
        int layer = 256 + w / 4 + 3;
        float[] layerInput = values(depth * layer, 6);
        float[] layerGradient = new float[256 * layer];
        int len = 2 * w + 5;
        for (int r = 0; r < rounds; r++) {
            for (int m : rowCounts) {
                k.transposedForwardPays(n);
                k.gemmPackedBias(a, 0, packed, 0, bias, 0, c, 0, n, m, n, depth);
                k.gemmPackedBias(a, 0, packed, 0, null, 0, c, 0, n, m, n, depth);
                k.gemmPackedBias(a, 0, packed, 0, bias, 0, c, 0, w, m, w, depth); // whole panels only
                k.gemmPackedBias(a, 0, packed, 0, bias, 0, c, 0, n, m, w, depth, Kernels.newToken()); // a block of units
                k.forwardReadsWeightsInPlace(n);
                k.gemmABtBiasInPlace(a, 0, b, 0, bias, 0, c, 0, n, m, n, depth, Kernels.NO_TOKEN);
                k.gemmABtBiasInPlace(a, 0, b, 0, bias, 0, c, 0, n, m, w, depth, Kernels.newToken()); // a block of units
                k.gemmAB(a, 0, b, 0, c, 0, m, n, depth);
                k.gemmAB(a, 1, depth + 2, b, 0, c, 0, m, n, depth, true); // a chunk's product added
                k.gemmAtB(a, 0, m, b, 0, c, 0, m, n, depth, false);
                k.gemmAtB(a, 0, m, b, 0, c, 0, m, n, depth, true);
                k.columnSums(a, 0, n, m, n, e, 0, false);
                k.columnSums(a, 0, n, m, n, e, 0, true);
            }
            k.gemmAtB(a, 0, 24, strided, 0, wide, 0, 24, 256, depth, false);
            // a prediction's 64 rows from the weights in blocks: blocks of units by whole panels of rows
            k.weightBlocksPay(w);
            k.packWeightBlocks(b, 0, w, depth, weightBlocks, 0);
            k.gemmBlocksBias(predictionRows, 0, weightBlocks, 0, b, 0, bias, 0, predictionOut, 0, w, 64, w, depth);
            if (r % 50 == 0) {
                // a whole layer's weight gradient: blocks of six rows of Aᵀ by copied panels of B (AVX-512);
                // 168 blocks a call, so a few calls make the block hot without paying its slow start often
                k.gemmAtB(strided, 0, 256, layerInput, 0, layerGradient, 0, 256, layer, depth, false);
                k.gemmAtB(strided, 0, 256, layerInput, 0, layerGradient, 0, 256, layer, depth, true);
            }
            k.gemmAB(a, 0, strided, 0, wide, 0, 24, 256, depth);
            // dot products: pairs of rows and of outputs, and the odd ones left over; one row by
            // four outputs and one
            k.gemmABtBias(a, 0, b, 0, bias, 0, c, 0, 3, 3, depth);
            k.gemmABtBias(a, 0, b, 0, null, 0, c, 0, 3, 3, depth);
            k.gemmABtBias(a, 0, b, 0, bias, 0, c, 0, 1, 5, depth);
            k.dot(a, 0, b, 0, depth);
            k.transpose(a, 0, w + 3, w + 3, c, 0, w + 3);
            k.transpose(a, 0, 3, w + 3, c, 0, w + 3);
            // a batch's input: passes of eight rows and the rows left over, rows with and without a tail
            k.gatherRows(a, w + 3, GATHER_ORDER, 0, GATHER_ORDER.length, c, 0);
            k.gatherRows(a, w, GATHER_ORDER, 1, 8, c, 0);
            // fresh copies each round: repeated in-place updates would drift towards subnormal
            // numbers, which are slow, or NaN
            System.arraycopy(d, 0, delta, 0, size);
            activations(k, needs, a, c, delta, e, len, w);
            System.arraycopy(a, 0, param, 0, 2 * len);
            Arrays.fill(moment1, 0, len, 0f);
            Arrays.fill(moment2, 0, len, 0f);
            if (needs.updates().contains(Update.SGD)) {
                k.sgdStep(param, 0, d, 0, len, 1e-3f, 0.5f, 1e-4f);
                k.sgdOuterStep(param, 0, d, 0, a, 0, 2, len, 1e-3f, 0.5f, 1e-4f);
            }
            if (needs.updates().contains(Update.MOMENTUM)) {
                k.momentumStep(param, moment1, 0, d, 0, len, 1e-3f, 0.5f, 0f, 0.9f, false);
                k.momentumStep(param, moment1, 0, d, 0, len, 1e-3f, 0.5f, 1e-4f, 0.9f, true);
            }
            if (needs.updates().contains(Update.ADAM)) {
                k.adamStep(param, moment1, moment2, 0, d, 0, len, 1e-3f, 0.5f, 1e-4f, 0f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f);
                k.adamStep(param, moment1, moment2, 0, d, 0, len, 1e-3f, 0.5f, 0f, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f);
            }
            if (needs.updates().contains(Update.RMSPROP)) {
                Arrays.fill(moment2, 0, len, 0f);
                k.rmspropStep(param, moment2, 0, d, 0, len, 1e-3f, 0.5f, 1e-4f, 0.99f, 1e-8f);
            }
            k.axpy(0.5f, a, 0, e, 0, len);
            k.subtract(a, b, e, 0, len);
        }
    }

    private static void activations(Kernels k, Needs needs, float[] z, float[] out, float[] delta, float[] scratch,
                                    int len, int w) {
        int units = w + 3;
        for (Elementwise f : needs.elementwise()) {
            k.activate(f, z, out, 0, len, 0.5f);
            k.activateBackward(f, z, out, delta, 0, len, 0.5f);
        }
        if (needs.byRows().contains(RowActivation.SOFTMAX)) {
            k.softmaxRows(z, out, 0, 3, 10);
            k.softmaxRows(z, out, 0, 3, units);
            k.softmaxBackwardRows(out, delta, 0, 3, 10);
            k.softmaxBackwardRows(out, delta, 0, 3, units);
        }
        if (needs.byRows().contains(RowActivation.PRELU)) {
            k.prelu(z, out, 0, 3, units, z, 0);
            k.preluBackward(z, delta, 0, 3, units, z, 0, scratch, 0, false);
            k.preluBackward(z, delta, 0, 3, units, z, 0, scratch, 0, true);
        }
        if (needs.byRows().contains(RowActivation.MAXOUT)) {
            k.maxout(z, out, 0, 0, 3, units, 3);
            k.maxoutBackward(z, out, delta, scratch, 0, 0, 3, units, 3);
        }
    }

    /** Values in [-1, 1) that differ from element to element, so that no branch is one-sided. */
    private static float[] values(int n, int seed) {
        float[] v = new float[n];
        int x = seed * 0x9E3779B9;
        for (int i = 0; i < n; i++) {
            x = x * 1664525 + 1013904223;
            v[i] = (x >>> 8) * 0x1p-23f - 1f;
        }
        return v;
    }
}
