package bp.bench;

import bp.engine.Workspace;
import bp.kernel.Alignment;
import bp.kernel.Kernels;
import bp.kernel.ScalarKernels;
import bp.kernel.VectorKernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The three GEMM shapes of training the 784-512-256-10 network on a shard of {@code rows} samples.
 * {@code shape} names the layer and pass: fwdL is {@code Z = A·Wᵀ + b} of layer L (through the
 * packed weights, or as dot products where the layer is narrower than a vector), dxL the
 * backward {@code Δprev = Δ·W} into layer L's input, dwL the gradient {@code ∂W += Δᵀ·A}.
 * One operation is one kernel call; bench/run turns the time into GFLOP/s (2·m·n·k per call).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // with bp's JVM flags (tools/jvm.flags), which bench/run passes as -jvmArgsAppend
public class GemmBench {

    @Param({"fwd1", "fwd2", "fwd3", "dx2", "dx3", "dw1", "dw2", "dw3"})
    public String shape;

    @Param({"32", "64", "128"})
    public int rows;

    @Param({"vector", "scalar"})
    public String impl;

    private Kernels kernels;
    private char pass;
    private int m, n, k;
    private float[] a, b, bias, c;
    /** Where each operand starts in its array: as in bp's own buffers (see {@link #setUp}). */
    private int aOff, bOff, cOff;

    /** Layer widths of the benchmarked network. */
    static final int[] SIZES = {784, 512, 256, 10};

    @Setup(Level.Trial)
    public void setUp() {
        kernels = impl.equals("vector") ? VectorKernels.preferred() : ScalarKernels.INSTANCE;
        if (kernels == null) {
            throw new IllegalStateException("no vector kernels: run with --add-modules jdk.incubator.vector");
        }
        int layer = shape.charAt(shape.length() - 1) - '0';
        int fanIn = SIZES[layer - 1];
        int units = SIZES[layer];
        // fwd: the forward pass; dx: the input gradient; dw: the weight gradient
        pass = shape.startsWith("fwd") ? 'f' : shape.charAt(1);
        switch (pass) {
            case 'f' -> { m = rows; n = units; k = fanIn; }
            case 'x' -> { m = rows; n = fanIn; k = units; }
            default -> { m = units; n = fanIn; k = rows; }
        }
        // Where training finds each operand (JVM flag -XX:ObjectAlignmentInBytes=64, from tools/jvm.flags):
        // a workspace's rows and the packed weights on cache lines (Alignment.ORIGIN), the weights that
        // Δ·W reads from index 0 of the parameters' layout; ∂W of the layers a step updates in their own
        // backward phase (the first two) into a block buffer on a line, the last layer's into the
        // gradient laid out like the parameters, from index 0.
        aOff = Alignment.ORIGIN;
        bOff = pass == 'x' ? 0 : Alignment.ORIGIN;
        cOff = pass == 'w' && layer == SIZES.length - 1 ? 0 : Alignment.ORIGIN;
        SplittableRandom rng = new SplittableRandom(1);
        a = random(rng, aOff, m * k);
        b = random(rng, bOff, n * k);
        bias = random(rng, 0, n);
        c = new float[cOff + m * n];
    }

    /** {@code len} random values from index {@code off} of a new array. */
    static float[] random(SplittableRandom rng, int off, int len) {
        float[] x = new float[off + len];
        for (int i = off; i < off + len; i++) {
            x[i] = (float) rng.nextDouble(-1, 1);
        }
        return x;
    }

    @Benchmark
    public float[] gemm() {
        switch (pass) {
            // as training does: through transposed weights, or as dot products for narrow layers
            case 'f' -> {
                if (kernels.transposedForwardPays(n)) {
                    kernels.gemmPackedBias(a, aOff, b, bOff, bias, 0, c, cOff, m, n, k);
                } else {
                    kernels.gemmABtBias(a, aOff, b, bOff, bias, 0, c, cOff, m, n, k);
                }
            }
            case 'x' -> {
                // as training does (Workspace.inputGradientRows): chunks of the layer's units, added in order
                for (int u0 = 0; u0 < k; u0 += Workspace.INPUT_GRADIENT_CHUNK) {
                    kernels.gemmAB(a, aOff + u0, k, b, bOff + u0 * n, c, cOff, m, n,
                            Math.min(k, u0 + Workspace.INPUT_GRADIENT_CHUNK) - u0, u0 > 0);
                }
            }
            default -> kernels.gemmAtB(a, aOff, b, bOff, c, cOff, m, n, k, true);
        }
        return c;
    }
}
