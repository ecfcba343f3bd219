package bp.kernel;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs every kernel on small inputs, through each of its code paths, so that the JIT compiles
 * them before real work reaches them.
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

    private static final FutureTask<Void> ONCE = new FutureTask<>(() -> exercise(Kernels.get(), ROUNDS), null);
    private static boolean started;

    private KernelWarmup() {
    }

    /** Starts the warm-up on a daemon thread, once per JVM; returns at once. */
    public static void start() {
        synchronized (ONCE) {
            if (!started) {
                started = true;
                Thread t = new Thread(ONCE, "bp-kernel-warmup");
                t.setDaemon(true);
                t.start();
            }
        }
    }

    /** {@return whether the warm-up has started in this JVM} */
    public static boolean started() {
        synchronized (ONCE) {
            return started;
        }
    }

    /** Starts the warm-up unless it has started, and waits until it has finished. */
    public static void await() {
        start();
        try {
            ONCE.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException("kernel warm-up failed", e.getCause());
        }
    }

    /** Calls every kernel of {@code k} {@code rounds} times on shapes that take all of its branches. */
    static void exercise(Kernels k, int rounds) {
        int w = k.panelWidth();
        // columns: whole panels, then blocks of half and a quarter of a panel, then a scalar tail;
        // rows: blocks of 6, 4, 2 and 1, and 8 (split 4 + 4)
        int n = w + w / 2 + w / 4 + 3;
        int depth = w / 2 + 3;
        int[] rowCounts = {13, 8};
        int size = 4 * n * depth;
        float[] a = values(size, 1);
        float[] b = values(size, 2);
        float[] c = new float[size];
        float[] d = values(size, 3);
        float[] e = new float[size];
        float[] bias = values(n, 4);
        float[] packed = new float[n * depth];
        float[] delta = new float[size];
        float[] param = new float[size];
        float[] moment1 = new float[size];
        float[] moment2 = new float[size];
        k.packRows(b, 0, n, depth, 0, n, packed, 0);
        // a B whose rows are 256 floats apart, read by enough rows of C to be copied panel by panel
        float[] strided = values(depth * 256, 5);
        float[] wide = new float[24 * 256];
        int len = 2 * w + 5;
        for (int r = 0; r < rounds; r++) {
            for (int m : rowCounts) {
                k.transposedForwardPays(n);
                k.gemmPackedBias(a, 0, packed, 0, bias, 0, c, 0, n, m, n, depth);
                k.gemmPackedBias(a, 0, packed, 0, null, 0, c, 0, n, m, n, depth);
                k.gemmPackedBias(a, 0, packed, 0, bias, 0, c, 0, w, m, w, depth); // whole panels only
                k.gemmAB(a, 0, b, 0, c, 0, m, n, depth);
                k.gemmAB(a, 1, depth + 2, b, 0, c, 0, m, n, depth, true); // a chunk's product added
                k.gemmAtB(a, 0, m, b, 0, c, 0, m, n, depth, false);
                k.gemmAtB(a, 0, m, b, 0, c, 0, m, n, depth, true);
                k.columnSums(a, 0, n, m, n, e, 0, false);
                k.columnSums(a, 0, n, m, n, e, 0, true);
            }
            k.gemmAtB(a, 0, 24, strided, 0, wide, 0, 24, 256, depth, false);
            k.gemmAB(a, 0, strided, 0, wide, 0, 24, 256, depth);
            // dot products: pairs of rows and of outputs, and the odd ones left over; one row by
            // four outputs and one
            k.gemmABtBias(a, 0, b, 0, bias, 0, c, 0, 3, 3, depth);
            k.gemmABtBias(a, 0, b, 0, null, 0, c, 0, 3, 3, depth);
            k.gemmABtBias(a, 0, b, 0, bias, 0, c, 0, 1, 5, depth);
            k.dot(a, 0, b, 0, depth);
            k.transpose(a, 0, w + 3, w + 3, c, 0, w + 3);
            k.transpose(a, 0, 3, w + 3, c, 0, w + 3);
            // fresh copies each round: repeated in-place updates would drift towards subnormal
            // numbers, which are slow, or NaN
            System.arraycopy(d, 0, delta, 0, size);
            activations(k, a, c, delta, e, len, w);
            System.arraycopy(a, 0, param, 0, 2 * len);
            java.util.Arrays.fill(moment1, 0, len, 0f);
            java.util.Arrays.fill(moment2, 0, len, 0f);
            k.sgdStep(param, d, 0, len, 1e-3f, 0.5f, 1e-4f);
            k.sgdOuterStep(param, 0, d, 0, a, 0, 2, len, 1e-3f, 0.5f, 1e-4f);
            k.momentumStep(param, d, moment1, 0, len, 1e-3f, 0.5f, 0f, 0.9f, false);
            k.momentumStep(param, d, moment1, 0, len, 1e-3f, 0.5f, 1e-4f, 0.9f, true);
            k.adamStep(param, d, moment1, moment2, 0, len, 1e-3f, 0.5f, 1e-4f, 0f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f);
            k.adamStep(param, d, moment1, moment2, 0, len, 1e-3f, 0.5f, 0f, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f);
            java.util.Arrays.fill(moment2, 0, len, 0f);
            k.rmspropStep(param, d, moment2, 0, len, 1e-3f, 0.5f, 1e-4f, 0.99f, 1e-8f);
            k.axpy(0.5f, a, 0, e, 0, len);
            k.subtract(a, b, e, 0, len);
        }
    }

    private static void activations(Kernels k, float[] z, float[] out, float[] delta, float[] scratch, int len, int w) {
        int units = w + 3;
        for (Elementwise f : Elementwise.values()) {
            k.activate(f, z, out, 0, len, 0.5f);
            k.activateBackward(f, z, out, delta, 0, len, 0.5f);
        }
        k.softmaxRows(z, out, 0, 3, 10);
        k.softmaxRows(z, out, 0, 3, units);
        k.softmaxBackwardRows(out, delta, 0, 3, 10);
        k.softmaxBackwardRows(out, delta, 0, 3, units);
        k.prelu(z, out, 0, 3, units, z, 0);
        k.preluBackward(z, delta, 0, 3, units, z, 0, scratch, 0, false);
        k.preluBackward(z, delta, 0, 3, units, z, 0, scratch, 0, true);
        k.maxout(z, out, 0, 3, units, 3);
        k.maxoutBackward(z, out, delta, scratch, 0, 3, units, 3);
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
