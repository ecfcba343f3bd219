package bp.bench;

import bp.kernel.Alignment;
import bp.kernel.Elementwise;
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
 * The elementwise kernels at the size of the widest hidden layer of a 128-row shard (128 × 512
 * floats), and the optimizer steps over the 784-512-256-10 network's 535 818 parameters.
 * bench/run turns the time into GB/s from the bytes each kernel must read and write.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // with bp's JVM flags (tools/jvm.flags), which bench/run passes as -jvmArgsAppend
public class ElementwiseBench {

    /** Floats in one activation matrix: 128 rows × 512 units. */
    static final int ACTIVATIONS = 128 * 512;
    /** Parameters of 784-512-256-10. */
    static final int PARAMETERS = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10;

    @Param({"vector", "scalar"})
    public String impl;

    private Kernels kernels;
    private float[] z, out, delta, p, g, m, v;
    /** Where the activations start, as in a workspace (the parameters start at 0, as in a network). */
    private static final int A0 = Alignment.ORIGIN;

    @Setup(Level.Trial)
    public void setUp() {
        kernels = impl.equals("vector") ? VectorKernels.preferred() : ScalarKernels.INSTANCE;
        if (kernels == null) {
            throw new IllegalStateException("no vector kernels: run with --add-modules jdk.incubator.vector");
        }
        SplittableRandom rng = new SplittableRandom(2);
        z = GemmBench.random(rng, A0, ACTIVATIONS);
        out = new float[A0 + ACTIVATIONS];
        delta = GemmBench.random(rng, A0, ACTIVATIONS);
        p = GemmBench.random(rng, 0, PARAMETERS);
        g = GemmBench.random(rng, 0, PARAMETERS);
        m = new float[PARAMETERS];
        v = new float[PARAMETERS];
    }

    @Benchmark
    public float[] relu() {
        kernels.activate(Elementwise.RELU, z, out, A0, ACTIVATIONS, 0f);
        return out;
    }

    @Benchmark
    public float[] reluBackward() {
        kernels.activateBackward(Elementwise.RELU, z, out, delta, A0, ACTIVATIONS, 0f);
        return delta;
    }

    @Benchmark
    public float[] sigmoid() {
        kernels.activate(Elementwise.SIGMOID, z, out, A0, ACTIVATIONS, 0f);
        return out;
    }

    @Benchmark
    public float[] tanh() {
        kernels.activate(Elementwise.TANH, z, out, A0, ACTIVATIONS, 0f);
        return out;
    }

    @Benchmark
    public float[] softmax() {
        kernels.softmaxRows(z, out, A0, ACTIVATIONS / 16, 16);
        return out;
    }

    @Benchmark
    public float[] sgdStep() {
        kernels.sgdStep(p, 0, g, 0, PARAMETERS, 1e-9f, 1f / 128, 0f);
        return p;
    }

    @Benchmark
    public float[] adamStep() {
        kernels.adamStep(p, m, v, 0, g, 0, PARAMETERS, 1e-9f, 1f / 128, 0f, 0f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f);
        return p;
    }
}
