package bp.bench;

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
        SplittableRandom rng = new SplittableRandom(1);
        a = random(rng, m * k);
        b = random(rng, n * k);
        bias = random(rng, n);
        c = new float[m * n];
    }

    static float[] random(SplittableRandom rng, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
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
                    kernels.gemmPackedBias(a, 0, b, 0, bias, 0, c, 0, m, n, k);
                } else {
                    kernels.gemmABtBias(a, 0, b, 0, bias, 0, c, 0, m, n, k);
                }
            }
            case 'x' -> kernels.gemmAB(a, 0, b, 0, c, 0, m, n, k);
            default -> kernels.gemmAtB(a, 0, b, 0, c, 0, m, n, k, true);
        }
        return c;
    }
}
