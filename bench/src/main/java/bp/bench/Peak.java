package bp.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's FP32 FMA peak as Java reaches it: 12 independent chains of vector FMAs (enough to
 * cover the FMA latency on every core of this kind) in the preferred species, on 1 and on 2
 * threads, best of several rounds. bench/run peak prints it; the training efficiency is taken
 * against it, measured in the same run.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar bp.bench.Peak [THREADS...]}
 */
public final class Peak {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final long ITERATIONS = 50_000_000L;
    private static final int CHAINS = 12;

    private Peak() {
    }

    static float chains(long iterations) {
        FloatVector a = FloatVector.broadcast(S, 1.0000001f);
        FloatVector b = FloatVector.broadcast(S, 0.9999999f);
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
        FloatVector s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
        for (long i = 0; i < iterations; i++) {
            s0 = a.fma(b, s0);
            s1 = a.fma(b, s1);
            s2 = a.fma(b, s2);
            s3 = a.fma(b, s3);
            s4 = a.fma(b, s4);
            s5 = a.fma(b, s5);
            s6 = a.fma(b, s6);
            s7 = a.fma(b, s7);
            s8 = a.fma(b, s8);
            s9 = a.fma(b, s9);
            s10 = a.fma(b, s10);
            s11 = a.fma(b, s11);
        }
        return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).add(s8).add(s9).add(s10).add(s11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** GFLOP/s of {@code threads} threads each running the chains, best of {@code rounds}. */
    static double gflops(int threads, int rounds) throws InterruptedException {
        double best = 0;
        float[] sink = new float[threads];
        for (int round = 0; round < rounds; round++) {
            Thread[] workers = new Thread[threads];
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = new Thread(() -> sink[id] = chains(ITERATIONS));
                workers[t].start();
            }
            for (Thread w : workers) {
                w.join();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            best = Math.max(best, threads * ITERATIONS * CHAINS * 2.0 * S.length() / seconds / 1e9);
        }
        if (sink[0] == 42f) {
            System.out.print(""); // keeps the result alive
        }
        return best;
    }

    public static void main(String[] args) throws InterruptedException {
        chains(ITERATIONS / 10); // compile before measuring
        int[] counts = args.length == 0 ? new int[] {1, 2} : java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        for (int threads : counts) {
            System.out.printf(java.util.Locale.ROOT, "peak threads=%d: %.1f GFLOP/s (%d-bit FMA, %d chains)%n",
                    threads, gflops(threads, 5), S.vectorBitSize(), CHAINS);
        }
    }
}
