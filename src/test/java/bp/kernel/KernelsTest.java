package bp.kernel;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every vector kernel against its scalar twin, at every length up to 3 vectors + 1 (so every tail
 * length), at 0 and 1, and at the shapes of a 784-512-256-10 network. The build runs this class
 * once per vector width (-Dbp.vectorBits=128, 256, 512) besides the default run.
 *
 * <p>Tolerances, with u = 2⁻²⁴ the float32 unit roundoff:
 * <ul>
 * <li>sums of k products (GEMMs, dot, column sums) in a different order: |v − s| ≤ 2·k·u·Σ|a·b|,
 *     twice the classic bound γ_k·Σ|a·b| on each side's error;</li>
 * <li>sigmoid, tanh (vector exp/tanh ≈ 1 ulp, plus up to two roundings): 4 ulp of the exact value,
 *     or 4·u absolute near 0;</li>
 * <li>softmax: (cols + 8)·u absolute on values in [0, 1];</li>
 * <li>axpy (one fused rounding against two): 1 ulp + the rounding of α·x;</li>
 * <li>relu, their backward passes, subtract: bit-exact (the same operations in the same order).</li>
 * </ul>
 */
class KernelsTest {

    static final double U = Math.scalb(1.0, -24);
    static Kernels vector;
    static final Kernels scalar = ScalarKernels.INSTANCE;
    static int lanes;

    @BeforeAll
    static void load() {
        vector = VectorKernels.preferred();
        assertNotNull(vector, "vector kernels must be available when the tests run with the incubator module");
        lanes = VectorKernels.L;
        System.out.println("KernelsTest: " + vector.description());
    }

    static int[] lengths() {
        return IntStream.rangeClosed(0, 3 * lanes + 1).toArray();
    }

    static float[] random(SplittableRandom rng, int n, float range) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-range, range);
        }
        return v;
    }

    // ---- GEMMs -----------------------------------------------------------------------------------

    @Test
    void gemmsMatchScalarOnSmallAndTailShapes() {
        int[] dims = {0, 1, 2, 3, 5, 7, lanes - 1, lanes, lanes + 1, 2 * lanes + 1, 3 * lanes + 1};
        SplittableRandom rng = new SplittableRandom(7);
        for (int m : dims) {
            for (int n : dims) {
                for (int k : dims) {
                    checkGemms(rng, m, n, k);
                }
            }
        }
    }

    @Test
    void gemmsMatchScalarOnMlpShapes() {
        SplittableRandom rng = new SplittableRandom(11);
        int[][] layers = {{784, 512}, {512, 256}, {256, 10}};
        // 30, 37 and 27 leave 2, 1 and 3 rows past the blocks of four of packed4x2
        for (int shard : new int[] {1, 27, 30, 32, 37}) {
            for (int[] layer : layers) {
                checkGemms(rng, shard, layer[1], layer[0]);
            }
        }
        checkGemms(rng, 133, 40, 24); // more rows than one copy of A holds: 128, then 5
    }

    /** Σ|terms| of output (i, j) of the forward pass (inputs at offset 3, weights at 5, bias at 2): the error scale. */
    private static double forwardMagnitude(float[] a, float[] w, float[] bias, int i, int j, int k) {
        double mag = Math.abs(bias[2 + j]);
        for (int p = 0; p < k; p++) {
            mag += Math.abs(a[3 + i * k + p] * w[5 + j * k + p]);
        }
        return mag;
    }

    /** The three products of one dense layer: rows=m samples, n units, k inputs. */
    private static void checkGemms(SplittableRandom rng, int m, int n, int k) {
        String shape = "m=" + m + " n=" + n + " k=" + k;
        // forward: Z[m×n] = A[m×k]·W[n×k]ᵀ + b, with offsets to catch indexing that ignores them
        float[] a = random(rng, 3 + m * k, 1);
        float[] w = random(rng, 5 + n * k, 1);
        float[] bias = random(rng, 2 + n, 1);
        float[] zs = new float[1 + m * n];
        float[] zv = new float[1 + m * n];
        scalar.gemmABtBias(a, 3, w, 5, bias, 2, zs, 1, m, n, k);
        vector.gemmABtBias(a, 3, w, 5, bias, 2, zv, 1, m, n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double tolerance = 2 * (k + 1) * U * forwardMagnitude(a, w, bias, i, j, k);
                assertClose(zs[1 + i * n + j], zv[1 + i * n + j], tolerance, "A·Wᵀ+b " + shape);
            }
        }
        // the same forward pass through the transposed weights: Wᵀ[k×n] (rows 7 apart past n) at offset 4
        int ldt = n + 7;
        float[] wt = new float[4 + k * ldt];
        vector.transpose(w, 5, n, k, wt, 4, ldt);
        float[] wts = new float[4 + k * ldt];
        scalar.transpose(w, 5, n, k, wts, 4, ldt);
        assertExact(wts, wt, "transpose " + shape);
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) {
                assertEquals(w[5 + j * k + p], wt[4 + p * ldt + j], "transpose " + shape);
            }
        }
        // packed in two pieces, as a refresh by blocks of units does
        float[] packedS = new float[2 + k * n];
        float[] packedV = new float[2 + k * n];
        for (Kernels kern : new Kernels[] {scalar, vector}) {
            float[] packed = kern == scalar ? packedS : packedV;
            kern.packRows(w, 5, n, k, 0, n / 3, packed, 2);
            kern.packRows(w, 5, n, k, n / 3, n, packed, 2);
            assertEquals(0f, packed[0], "packRows wrote before its offset, " + shape);
            float[] sorted = java.util.Arrays.copyOfRange(packed, 2, packed.length);
            float[] weights = java.util.Arrays.copyOfRange(w, 5, 5 + n * k);
            java.util.Arrays.sort(sorted);
            java.util.Arrays.sort(weights);
            assertArrayEquals(weights, sorted, "packRows keeps every weight once, " + shape);
        }
        float[] ts = new float[1 + m * n];
        float[] tv = new float[1 + m * n];
        scalar.gemmPackedBias(a, 3, packedS, 2, bias, 2, ts, 1, m, n, k);
        vector.gemmPackedBias(a, 3, packedV, 2, bias, 2, tv, 1, m, n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double tolerance = 2 * (k + 1) * U * forwardMagnitude(a, w, bias, i, j, k);
                assertClose(zs[1 + i * n + j], ts[1 + i * n + j], tolerance, "A·packed(W)+b scalar " + shape);
                assertClose(zs[1 + i * n + j], tv[1 + i * n + j], tolerance, "A·packed(W)+b " + shape);
            }
        }
        assertEquals(0f, tv[0], "A·packed(W)+b wrote before its offset, " + shape);
        // backward: Δprev[m×k] = Δ[m×n]·W[n×k]
        float[] d = random(rng, 4 + m * n, 1);
        float[] ps = new float[m * k];
        float[] pv = new float[m * k];
        scalar.gemmAB(d, 4, w, 5, ps, 0, m, k, n);
        vector.gemmAB(d, 4, w, 5, pv, 0, m, k, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                double mag = 0;
                for (int p = 0; p < n; p++) {
                    mag += Math.abs(d[4 + i * n + p] * w[5 + p * k + j]);
                }
                assertClose(ps[i * k + j], pv[i * k + j], 2 * n * U * mag, "Δ·W " + shape);
            }
        }
        // weight gradient: ∂W[n×k] += Δ[m×n]ᵀ·A[m×k], onto a non-zero start
        float[] gs = random(rng, 6 + n * k, 1);
        float[] gv = gs.clone();
        float[] g0 = gs.clone();
        scalar.gemmAtB(d, 4, a, 3, gs, 6, n, k, m, true);
        vector.gemmAtB(d, 4, a, 3, gv, 6, n, k, m, true);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double mag = Math.abs(g0[6 + i * k + j]);
                for (int p = 0; p < m; p++) {
                    mag += Math.abs(d[4 + p * n + i] * a[3 + p * k + j]);
                }
                assertClose(gs[6 + i * k + j], gv[6 + i * k + j], 2 * (m + 1) * U * mag, "Δᵀ·A " + shape);
            }
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(g0[i], gv[i], "Δᵀ·A wrote before its offset, " + shape);
        }
        // overwriting garbage gives exactly what accumulating onto zeros gives
        for (Kernels kern : new Kernels[] {scalar, vector}) {
            float[] zeroed = new float[6 + n * k];
            kern.gemmAtB(d, 4, a, 3, zeroed, 6, n, k, m, true);
            float[] overwritten = random(rng, 6 + n * k, 1);
            float[] before = overwritten.clone();
            kern.gemmAtB(d, 4, a, 3, overwritten, 6, n, k, m, false);
            for (int i = 0; i < n * k; i++) {
                assertEquals(zeroed[6 + i] + 0f, overwritten[6 + i] + 0f, "Δᵀ·A overwrite " + shape);
            }
            assertEquals(before[5], overwritten[5], "Δᵀ·A overwrite wrote before its offset, " + shape);
        }
    }

    /**
     * A product with many rows copies the panels of a B whose rows are a power of two floats apart
     * to contiguous scratch first; a few rows of it read B in place. Both must give the same bits,
     * or a unit's gradient would depend on the block (and so the thread) that computed it.
     */
    @Test
    void copiedPanelsGiveTheBitsOfPanelsReadInPlace() {
        SplittableRandom rng = new SplittableRandom(13);
        int rows = 37;
        // Δ·W copies its panels (k = units rows of W) only while one fits in L1: 128 units at every
        // width, 256 below 512 bits; 784 and 790 leave columns past the last panel, whole vectors
        // and a scalar rest, which ∂W of 256 units takes from A's copied blocks
        for (int units : new int[] {128, 256}) {
            for (int fanIn : new int[] {256, 512, 784, 790}) {
                float[] d = random(rng, rows * units, 1);
                float[] a = random(rng, rows * fanIn, 1);
                // ∂W[units×fanIn] = Δᵀ·A: all units at once (copied panels) and by blocks of 4 (in place)
                float[] whole = new float[units * fanIn];
                vector.gemmAtB(d, 0, units, a, 0, whole, 0, units, fanIn, rows, false);
                float[] blocks = new float[units * fanIn];
                for (int j0 = 0; j0 < units; j0 += 4) {
                    vector.gemmAtB(d, j0, units, a, 0, blocks, j0 * fanIn, 4, fanIn, rows, false);
                }
                assertExact(whole, blocks, "Δᵀ·A, units=" + units + " fanIn=" + fanIn);
                // Δprev[rows×fanIn] = Δ·W: all rows at once (copied panels) and by rows of 2 (in place)
                float[] w = random(rng, units * fanIn, 1);
                float[] wholeRows = new float[rows * fanIn];
                vector.gemmAB(d, 0, w, 0, wholeRows, 0, rows, fanIn, units);
                float[] byRows = new float[rows * fanIn];
                for (int r0 = 0; r0 < rows; r0 += 2) {
                    vector.gemmAB(d, r0 * units, w, 0, byRows, r0 * fanIn, Math.min(2, rows - r0), fanIn, units);
                }
                assertExact(wholeRows, byRows, "Δ·W, units=" + units + " fanIn=" + fanIn);
            }
        }
    }

    /**
     * The input gradient is a sum of products over chunks of a layer's units (Δ's columns, rows
     * {@code lda} apart). Accumulating them one after the other in C, as a block of rows does, must
     * give the bits of computing each alone and adding them afterwards in the same order, as the
     * chunks' owners do; and both must be Δ·W. Tails at every width: 37 rows, chunks of 128 and 75
     * units, 40 and 200 columns; C starts from garbage, which the first chunk overwrites.
     */
    @Test
    void chunkProductsAddedInPlaceGiveTheBitsOfChunkProductsAddedAfterwards() {
        SplittableRandom rng = new SplittableRandom(17);
        int rows = 37;
        int units = 203;
        int[] chunkStarts = {0, 128, units};
        for (int fanIn : new int[] {40, 200}) {
            float[] d = random(rng, 3 + rows * units, 1);
            float[] w = random(rng, 2 + units * fanIn, 1);
            for (Kernels kern : new Kernels[] {scalar, vector}) {
                float[] inPlace = random(rng, 1 + rows * fanIn, 1);
                float[] before = inPlace.clone();
                float[] afterwards = new float[rows * fanIn];
                for (int c = 0; c + 1 < chunkStarts.length; c++) {
                    int u0 = chunkStarts[c];
                    int chunk = chunkStarts[c + 1] - u0;
                    kern.gemmAB(d, 3 + u0, units, w, 2 + u0 * fanIn, inPlace, 1, rows, fanIn, chunk, c > 0);
                    float[] alone = new float[rows * fanIn];
                    kern.gemmAB(d, 3 + u0, units, w, 2 + u0 * fanIn, alone, 0, rows, fanIn, chunk, false);
                    kern.axpy(1f, alone, 0, afterwards, 0, rows * fanIn);
                }
                String name = kern.getClass().getSimpleName() + ", fanIn=" + fanIn;
                assertExact(afterwards, java.util.Arrays.copyOfRange(inPlace, 1, inPlace.length), "Δ·W by chunks, " + name);
                assertEquals(before[0], inPlace[0], "Δ·W by chunks wrote before its offset, " + name);
                float[] whole = new float[rows * fanIn];
                kern.gemmAB(java.util.Arrays.copyOfRange(d, 3, d.length), 0, w, 2, whole, 0, rows, fanIn, units);
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < fanIn; j++) {
                        double mag = 0;
                        for (int p = 0; p < units; p++) {
                            mag += Math.abs(d[3 + i * units + p] * w[2 + p * fanIn + j]);
                        }
                        assertClose(whole[i * fanIn + j], afterwards[i * fanIn + j], 2 * units * U * mag,
                                "Δ·W by chunks against Δ·W, " + name);
                    }
                }
            }
        }
    }

    /**
     * The trainer's forward pass and weight gradient by blocks of units give each thread's blocks
     * of a layer one token, so that they share one copy of the layer's input: every block must
     * give the bits of the whole product, over one block of rows (3 rows, 6), several (133: past
     * the 128 rows copied at once, with a remainder) and past a second slice (260), and a new
     * token after A changes must see the new A; with no token, each call its own A.
     */
    @Test
    void blocksOfUnitsSharingACopyOfTheInputGiveTheBitsOfTheWhole() {
        SplittableRandom rng = new SplittableRandom(17);
        for (Kernels kern : new Kernels[] {scalar, vector}) {
            int panel = kern.panelWidth();
            int n = 3 * panel + 5, k = 2 * lanes + 11;
            float[] w = random(rng, n * k, 1);
            float[] bias = random(rng, 2 + n, 1);
            float[] packed = new float[1 + n * k];
            kern.packRows(w, 0, n, k, 0, n, packed, 1);
            for (int m : new int[] {3, 6, 133, 260}) {
                for (int round = 0; round < 2; round++) {
                    float[] a = random(rng, 3 + m * k, 1); // a new A each round, under a new token
                    float[] whole = new float[m * n];
                    kern.gemmPackedBias(a, 3, packed, 1, bias, 2, whole, 0, n, m, n, k);
                    // no token right after another A's calls without one (round 1) must not see that A
                    for (long token : round == 0 ? new long[] {Kernels.newToken(), Kernels.NO_TOKEN}
                            : new long[] {Kernels.NO_TOKEN, Kernels.newToken()}) {
                        float[] blocks = new float[m * n];
                        for (int j0 = 0; j0 < n; j0 += panel) {
                            int j1 = Math.min(n, j0 + panel);
                            kern.gemmPackedBias(a, 3, packed, 1 + j0 * k, bias, 2 + j0, blocks, j0, n, m, j1 - j0, k,
                                    token);
                        }
                        assertExact(whole, blocks, "blocks of units sharing a copy of A, m = " + m + ", round " + round
                                + (token == Kernels.NO_TOKEN ? ", no token" : "") + ", " + kern.description());
                    }
                    // the weight gradient ∂W[n×k] = Δᵀ·A by blocks of 26, 4 and 7 units (and what is left) sharing B's panels
                    float[] d = random(rng, m * n, 1);
                    float[] gradient = new float[n * k];
                    kern.gemmAtB(d, 0, n, a, 3, gradient, 0, n, k, m, false);
                    int[] sizes = {26, 4, 7};
                    for (long dwToken : round == 0 ? new long[] {Kernels.newToken(), Kernels.NO_TOKEN}
                            : new long[] {Kernels.NO_TOKEN, Kernels.newToken()}) {
                        float[] gradientBlocks = new float[n * k];
                        for (int j0 = 0, b = 0; j0 < n; j0 += sizes[b++ % 3]) {
                            int j1 = Math.min(n, j0 + sizes[b % 3]);
                            kern.gemmAtB(d, j0, n, a, 3, gradientBlocks, j0 * k, j1 - j0, k, m, false, dwToken);
                        }
                        assertExact(gradient, gradientBlocks, "Δᵀ·A by blocks of units sharing B's panels, m = " + m
                                + ", round " + round + (dwToken == Kernels.NO_TOKEN ? ", no token" : "") + ", "
                                + kern.description());
                    }
                }
            }
        }
    }

    /**
     * Where the kernels read a layer's weights in place ({@code forwardReadsWeightsInPlace}), the
     * forward pass gives the packed form's bits: the trainer picks the form by batch size, and the
     * model must not depend on it. Whole, and by blocks of units sharing one copy of A under a
     * token, as the trainer's threads compute it. Likewise a prediction's forward pass from the
     * weights copied in blocks of units where the kernels {@code weightBlocksPay} (a row's outputs
     * must not depend on how many rows came with it). Every row count up to 3 vectors + 1 and the
     * trainer's shard sizes; depths with tails; C's rows wider than n. Elsewhere these forms stay
     * within the GEMM tolerance of the packed one (the scalar twin: its bits).
     */
    @Test
    void everyForwardFormGivesThePackedFormsBits() {
        SplittableRandom rng = new SplittableRandom(23);
        int[] rows = IntStream.concat(IntStream.rangeClosed(0, 3 * lanes + 1), IntStream.of(27, 37, 64, 133)).toArray();
        for (Kernels kern : new Kernels[] {scalar, vector}) {
            int panel = kern.panelWidth();
            for (int n : new int[] {lanes, 2 * panel + lanes, 3 * panel + 5}) {
                for (int k : new int[] {1, lanes + 3, 2 * lanes + 11}) {
                    for (int m : rows) {
                        checkForwardForms(rng, kern, m, n, k);
                    }
                }
            }
            for (int m : new int[] {1, 27, 32, 37, 64}) {
                checkForwardForms(rng, kern, m, 512, 784); // the first layer of 784-512-256-10
            }
        }
    }

    private static void checkForwardForms(SplittableRandom rng, Kernels kern, int m, int n, int k) {
        String shape = "m=" + m + " n=" + n + " k=" + k + ", " + kern.description();
        int panel = kern.panelWidth();
        int ldc = n + 3;
        float[] a = random(rng, 3 + m * k, 1);
        float[] w = random(rng, 5 + n * k, 1);
        float[] bias = random(rng, 2 + n, 1);
        float[] packed = new float[n * k];
        kern.packRows(w, 5, n, k, 0, n, packed, 0);
        float[] expected = new float[1 + m * ldc];
        kern.gemmPackedBias(a, 3, packed, 0, bias, 2, expected, 1, ldc, m, n, k);
        float[] whole = new float[1 + m * ldc];
        kern.gemmABtBiasInPlace(a, 3, w, 5, bias, 2, whole, 1, ldc, m, n, k, Kernels.NO_TOKEN);
        float[] blocks = new float[1 + m * ldc];
        long token = Kernels.newToken();
        for (int j0 = 0; j0 < n; j0 += panel) {
            int j1 = Math.min(n, j0 + panel);
            kern.gemmABtBiasInPlace(a, 3, w, 5 + j0 * k, bias, 2 + j0, blocks, 1 + j0, ldc, m, j1 - j0, k, token);
        }
        assertExact(whole, blocks, "A·Wᵀ+b, W in place, by blocks of units sharing A's copy, " + shape);
        assertLikePacked(expected, whole, kern == scalar || kern.forwardReadsWeightsInPlace(n), a, w, bias, m, n, k,
                ldc, "A·Wᵀ+b with W in place, " + shape);
        float[] weightBlocks = new float[7 + n * k];
        kern.packWeightBlocks(w, 5, n, k, weightBlocks, 7);
        float[] fromBlocks = new float[1 + m * ldc];
        kern.gemmBlocksBias(a, 3, weightBlocks, 7, w, 5, bias, 2, fromBlocks, 1, ldc, m, n, k);
        assertLikePacked(expected, fromBlocks, kern == scalar || kern.weightBlocksPay(n), a, w, bias, m, n, k, ldc,
                "A·Wᵀ+b from W's blocks, " + shape);
    }

    /**
     * {@code actual} (C from 1, rows {@code ldc} apart, A from 3, W from 5, the bias from 2) has the
     * packed form's bits where {@code exact}, else each element is within the GEMM tolerance of them.
     */
    private static void assertLikePacked(float[] expected, float[] actual, boolean exact, float[] a, float[] w,
                                         float[] bias, int m, int n, int k, int ldc, String what) {
        assertEquals(0f, actual[0], what + ": wrote before its offset");
        if (exact) {
            assertExact(expected, actual, what + ", against packed");
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double tolerance = 2 * (k + 1) * U * forwardMagnitude(a, w, bias, i, j, k);
                assertClose(expected[1 + i * ldc + j], actual[1 + i * ldc + j], tolerance, what);
            }
        }
    }

    /**
     * The trainer's phases compute a product by blocks on several threads: the weight gradient by
     * blocks of units (columns of Δ, rows {@code lda} apart), the forward pass and the input gradient
     * by blocks of rows. Each block must give exactly the bits of the same elements in the whole
     * product, or the model would depend on the thread count.
     */
    @Test
    void blocksOfAProductGiveTheBitsOfTheWhole() {
        SplittableRandom rng = new SplittableRandom(11);
        int m = 13, n = 3 * lanes + 5, k = 2 * lanes + 7;
        float[] d = random(rng, m * n, 1);
        float[] a = random(rng, m * k, 1);
        float[] w = random(rng, n * k, 1);
        float[] bias = random(rng, n, 1);
        for (Kernels kern : new Kernels[] {scalar, vector}) {
            String name = kern.description();
            // ∂W[n×k] = Δᵀ·A and ∂b = Σ Δ, whole and by blocks of units [j0, j1)
            float[] whole = new float[n * k];
            float[] wholeBias = new float[n];
            kern.gemmAtB(d, 0, a, 0, whole, 0, n, k, m, false);
            kern.columnSums(d, 0, m, n, wholeBias, 0, false);
            float[] blocks = random(rng, n * k, 1);
            float[] blockBias = random(rng, n, 1);
            for (int j0 = 0; j0 < n; j0 += 7) {
                int j1 = Math.min(n, j0 + 7);
                kern.gemmAtB(d, j0, n, a, 0, blocks, j0 * k, j1 - j0, k, m, false);
                kern.columnSums(d, j0, n, m, j1 - j0, blockBias, j0, false);
            }
            assertExact(whole, blocks, "Δᵀ·A by blocks of units, " + name);
            assertExact(wholeBias, blockBias, "Σ Δ by blocks of units, " + name);
            // Z = A·Wᵀ + b through packed weights and as dot products, Δprev = Δ·W: whole and by rows
            float[] packed = new float[n * k];
            kern.packRows(w, 0, n, k, 0, n, packed, 0);
            float[][] wholeRows = new float[3][];
            float[][] byRows = new float[3][];
            for (int form = 0; form < 3; form++) {
                int cols = form == 2 ? k : n;
                wholeRows[form] = new float[m * cols];
                byRows[form] = new float[m * cols];
                for (int pass = 0; pass < 2; pass++) {
                    float[] c = pass == 0 ? wholeRows[form] : byRows[form];
                    int step = pass == 0 ? m : 3;
                    for (int r0 = 0; r0 < m; r0 += step) {
                        int rows = Math.min(step, m - r0);
                        switch (form) {
                            case 0 -> kern.gemmPackedBias(a, r0 * k, packed, 0, bias, 0, c, r0 * n, rows, n, k);
                            case 1 -> kern.gemmABtBias(a, r0 * k, w, 0, bias, 0, c, r0 * n, rows, n, k);
                            default -> kern.gemmAB(d, r0 * n, w, 0, c, r0 * k, rows, k, n);
                        }
                    }
                }
                assertExact(wholeRows[form], byRows[form], "product form " + form + " by blocks of rows, " + name);
            }
            // the vector dot-product form, which computes several outputs at once, gives each one dot()'s bits
            for (int kk : kern == vector ? new int[] {k, 3, lanes + 1, 2 * lanes} : new int[0]) {
                float[] c = new float[m * n];
                kern.gemmABtBias(a, 0, w, 0, bias, 0, c, 0, m, n, kk);
                float[] dots = new float[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        dots[i * n + j] = kern.dot(a, i * kk, w, j * kk, kk) + bias[j];
                    }
                }
                assertExact(dots, c, "A·Wᵀ + b against one dot product per output, k = " + kk + ", " + name);
            }
            // maxout forward and backward by blocks of rows, in arrays whose rows start at an origin (as a workspace's)
            int units = lanes + 3, pieces = 3, origin = 5;
            float[] z = random(rng, m * units * pieces, 1);
            float[] out = new float[m * units];
            float[] g = random(rng, m * units, 1);
            float[] dz = new float[m * units * pieces];
            kern.maxout(z, out, m, units, pieces);
            kern.maxoutBackward(z, out, g, dz, m, units, pieces);
            float[] zAt = shifted(z, origin);
            float[] outAt = shifted(out, origin);
            float[] outRows = new float[origin + m * units];
            float[] dzRows = new float[origin + m * units * pieces];
            for (int r0 = 0; r0 < m; r0 += 4) {
                kern.maxout(zAt, outRows, origin, r0, Math.min(4, m - r0), units, pieces);
                kern.maxoutBackward(zAt, outAt, shifted(g, origin), dzRows, origin, r0, Math.min(4, m - r0), units,
                        pieces);
            }
            assertExact(shifted(out, origin), outRows, "maxout by blocks of rows, " + name);
            assertExact(shifted(dz, origin), dzRows, "maxout backward by blocks of rows, " + name);
        }
    }

    /** {@code x} from index {@code origin} of a new array (zeros before it). */
    private static float[] shifted(float[] x, int origin) {
        float[] at = new float[origin + x.length];
        System.arraycopy(x, 0, at, origin, x.length);
        return at;
    }

    @Test
    void gemmWithoutBiasIsPlainProduct() {
        SplittableRandom rng = new SplittableRandom(3);
        int m = 4, n = 2 * lanes + 3, k = 9;
        float[] a = random(rng, m * k, 1);
        float[] w = random(rng, n * k, 1);
        float[] zs = new float[m * n];
        float[] zv = new float[m * n];
        scalar.gemmABtBias(a, 0, w, 0, null, 0, zs, 0, m, n, k);
        vector.gemmABtBias(a, 0, w, 0, null, 0, zv, 0, m, n, k);
        for (int i = 0; i < m * n; i++) {
            assertClose(zs[i], zv[i], 2 * k * U * k, "no bias, element " + i);
        }
    }

    @Test
    void columnSumsMatchScalar() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int n : lengths()) {
            for (int m : new int[] {0, 1, 3, 33}) {
                float[] a = random(rng, m * n, 1);
                float[] ys = random(rng, n + 2, 1);
                float[] yv = ys.clone();
                scalar.columnSums(a, 0, m, n, ys, 1, true);
                vector.columnSums(a, 0, m, n, yv, 1, true);
                float[] fresh = random(rng, n + 1, 1);
                fresh[0] = 0f;
                float[] zeros = new float[n + 1];
                vector.columnSums(a, 0, m, n, fresh, 1, false);
                vector.columnSums(a, 0, m, n, zeros, 1, true);
                assertExact(zeros, fresh, "column sums overwrite");
                for (int j = 0; j < ys.length; j++) {
                    assertClose(ys[j], yv[j], 2 * (m + 1) * U * (m + 2), "column sums m=" + m + " n=" + n);
                }
            }
        }
    }

    // ---- elementwise -----------------------------------------------------------------------------

    /**
     * Every elementwise activation, forward, against its scalar twin: exact unless its vector kernel
     * computes e^z with bp's own polynomial (sigmoid and tanh within 4 ulps; elu's e^z − 1 within a
     * few ulps of 1, since near z = 0 the error is absolute).
     */
    @Test
    void activationsMatchScalar() {
        SplittableRandom rng = new SplittableRandom(13);
        for (int len : lengths()) {
            float[] z = random(rng, len + 2, 12);
            z[0] = 0f;
            for (Elementwise f : Elementwise.values()) {
                float alpha = f == Elementwise.LEAKY_RELU ? 0.01f : 1f;
                float[] s = new float[len + 2];
                float[] v = new float[len + 2];
                scalar.activate(f, z, s, 1, len, alpha);
                vector.activate(f, z, v, 1, len, alpha);
                String what = f + " len=" + len;
                switch (f) {
                    case SIGMOID, TANH -> assertUlps(s, v, 4, what);
                    case ELU -> {
                        for (int i = 1; i <= len; i++) {
                            assertClose(s[i], v[i], 4 * Math.ulp(1f) + 4 * Math.ulp(s[i]), what + " at " + i);
                        }
                    }
                    default -> assertExact(s, v, what);
                }
            }
        }
    }

    /**
     * A value gets the same bits in a vector as in the scalar tail of the vector kernels, so a
     * row's outputs never depend on its place in a batch: it matters for the exp-based ones.
     */
    @Test
    void activationTailsGiveTheLanesBits() {
        SplittableRandom rng = new SplittableRandom(17);
        int len = 3 * lanes;
        float[] z = random(rng, len, 12);
        z[0] = 0f;
        z[1] = -100f;
        z[2] = 100f;
        z[3] = 0.625f;
        z[4] = -0.625f;
        for (Elementwise f : Elementwise.values()) {
            float[] inVectors = new float[len];
            float[] alone = new float[len];
            for (int i = 0; i < len; i++) {
                vector.activate(f, z, alone, i, 1, 0.7f);
            }
            vector.activate(f, z, inVectors, 0, len, 0.7f);
            assertExact(inVectors, alone, f + " in vectors and alone");
        }
    }

    /** Every elementwise activation's backward pass, and subtract, bit for bit against the scalar twin. */
    @Test
    void backwardElementwiseIsBitExact() {
        SplittableRandom rng = new SplittableRandom(17);
        for (int len : lengths()) {
            float[] a = random(rng, len + 1, 1);
            float[] z = random(rng, len + 1, 1);
            if (len > 2) {
                z[2] = 0f; // relu'(0) = 0 in both
            }
            float[] d = random(rng, len + 1, 3);
            for (Elementwise f : Elementwise.values()) {
                float alpha = f == Elementwise.LEAKY_RELU ? 0.01f : 1f;
                float[] ds = d.clone();
                float[] dv = d.clone();
                scalar.activateBackward(f, z, a, ds, 1, len, alpha);
                vector.activateBackward(f, z, a, dv, 1, len, alpha);
                assertExact(ds, dv, f + "' len=" + len);
            }
            float[] ds = d.clone();
            float[] dv = d.clone();
            scalar.subtract(a, z, ds, 1, len);
            vector.subtract(a, z, dv, 1, len);
            assertExact(ds, dv, "subtract len=" + len);
        }
    }

    /** PReLU forward and backward, with the slopes' gradient, over every tail width and a few row counts. */
    @Test
    void preluIsBitExact() {
        SplittableRandom rng = new SplittableRandom(23);
        for (int cols : lengths()) {
            for (int rows : new int[] {0, 1, 3}) {
                String shape = "rows=" + rows + " cols=" + cols;
                float[] z = random(rng, 2 + rows * cols, 1);
                if (z.length > 4) {
                    z[4] = 0f; // the kink belongs to the negative side in both
                }
                float[] slope = random(rng, 3 + cols, 1); // learned slopes may be negative
                float[] outS = new float[z.length];
                float[] outV = new float[z.length];
                scalar.prelu(z, outS, 2, rows, cols, slope, 3);
                vector.prelu(z, outV, 2, rows, cols, slope, 3);
                assertExact(outS, outV, "prelu " + shape);
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < cols; j++) {
                        float v = z[2 + r * cols + j];
                        assertEquals(v > 0 ? v : slope[3 + j] * v, outS[2 + r * cols + j], "prelu " + shape);
                    }
                }
                float[] d = random(rng, z.length, 3);
                for (boolean accumulate : new boolean[] {false, true}) {
                    float[] ds = d.clone();
                    float[] dv = d.clone();
                    float[] gs = random(rng, 1 + cols, 1);
                    float[] gv = gs.clone();
                    float[] before = gs.clone();
                    scalar.preluBackward(z, ds, 2, rows, cols, slope, 3, gs, 1, accumulate);
                    vector.preluBackward(z, dv, 2, rows, cols, slope, 3, gv, 1, accumulate);
                    assertExact(ds, dv, "prelu' " + shape);
                    assertExact(gs, gv, "prelu slope gradient " + shape + " accumulate=" + accumulate);
                    for (int j = 0; j < cols; j++) {
                        double expected = accumulate ? before[1 + j] : 0;
                        for (int r = 0; r < rows; r++) {
                            float v = z[2 + r * cols + j];
                            expected += v > 0 ? 0 : (double) d[2 + r * cols + j] * v;
                        }
                        assertClose(expected, gs[1 + j], 1e-5, "prelu slope gradient " + shape);
                    }
                }
            }
        }
    }

    /** Maxout forward and backward over every tail width, pieces 2 and 3, with ties routed to the first piece. */
    @Test
    void maxoutIsBitExact() {
        SplittableRandom rng = new SplittableRandom(29);
        for (int units : lengths()) {
            for (int pieces : new int[] {2, 3}) {
                int rows = 3;
                String shape = "units=" + units + " pieces=" + pieces;
                float[] z = random(rng, rows * units * pieces, 1);
                if (units > 1) {
                    z[units + 1] = z[1]; // a tie in row 0, unit 1, between pieces 0 and 1
                    z[1] = 2f;
                    z[units + 1] = 2f;
                }
                float[] as = new float[rows * units];
                float[] av = new float[rows * units];
                scalar.maxout(z, as, rows, units, pieces);
                vector.maxout(z, av, rows, units, pieces);
                assertExact(as, av, "maxout " + shape);
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < units; j++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int p = 0; p < pieces; p++) {
                            m = Math.max(m, z[r * units * pieces + p * units + j]);
                        }
                        assertEquals(m, as[r * units + j], "maxout " + shape);
                    }
                }
                float[] d = random(rng, rows * units, 3);
                float[] dzS = random(rng, z.length, 1); // garbage: every entry must be written
                float[] dzV = random(rng, z.length, 1);
                scalar.maxoutBackward(z, as, d, dzS, rows, units, pieces);
                vector.maxoutBackward(z, av, d, dzV, rows, units, pieces);
                assertExact(dzS, dzV, "maxout' " + shape);
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < units; j++) {
                        int nonZero = 0;
                        for (int p = 0; p < pieces; p++) {
                            float g = dzS[r * units * pieces + p * units + j];
                            if (g != 0) {
                                nonZero++;
                                assertEquals(d[r * units + j], g, "maxout' " + shape);
                                assertEquals(as[r * units + j], z[r * units * pieces + p * units + j], "maxout' " + shape);
                            }
                        }
                        assertEquals(1, nonZero, "maxout' routes to exactly one piece " + shape);
                    }
                }
                if (units > 1) {
                    assertEquals(d[1], dzS[1], "a tie goes to the first piece");
                    assertEquals(0f, dzS[units + 1], "a tie goes to the first piece");
                }
            }
        }
    }

    @Test
    void softmaxMatchesScalarAndSumsToOne() {
        SplittableRandom rng = new SplittableRandom(19);
        for (int cols : lengths()) {
            if (cols == 0) {
                continue;
            }
            int rows = 3;
            float[] z = random(rng, 1 + rows * cols, 30);
            float[] s = new float[1 + rows * cols];
            float[] v = new float[1 + rows * cols];
            scalar.softmaxRows(z, s, 1, rows, cols);
            vector.softmaxRows(z, v, 1, rows, cols);
            for (int i = 1; i < s.length; i++) {
                assertClose(s[i], v[i], (cols + 8) * U, "softmax cols=" + cols);
            }
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                for (int j = 0; j < cols; j++) {
                    sum += v[1 + r * cols + j];
                }
                assertEquals(1.0, sum, (cols + 8) * U, "softmax row sum cols=" + cols);
            }
            float[] gs = random(rng, 1 + rows * cols, 1);
            float[] gv = gs.clone();
            scalar.softmaxBackwardRows(s, gs, 1, rows, cols);
            vector.softmaxBackwardRows(s, gv, 1, rows, cols);
            for (int i = 1; i < gs.length; i++) {
                assertClose(gs[i], gv[i], 4 * (cols + 2) * U, "softmax' cols=" + cols);
            }
        }
    }

    @Test
    void softmaxDoesNotOverflow() {
        float[] z = {1000f, 1001f, -1000f, 999f, 1000f, 1000f, 1000f, 1000f, 1000f, 1000f, 1000f, 1000f, 1000f,
                1000f, 1000f, 1000f, 1000f, 1000f};
        float[] v = new float[z.length];
        vector.softmaxRows(z, v, 0, 1, z.length);
        for (float x : v) {
            if (!Float.isFinite(x)) {
                fail("softmax overflowed: " + java.util.Arrays.toString(v));
            }
        }
        assertEquals(0f, v[2]);
    }

    @Test
    void gatherRowsCopiesTheIndexedRowsAndNothingElse() {
        SplittableRandom rng = new SplittableRandom(29);
        int rows = 40;
        for (int len : lengths()) {
            float[] x = random(rng, rows * len, 1);
            for (int count : new int[] {0, 1, 7, 8, 9, 16, 17, 23}) {
                int[] index = new int[count + 3];
                for (int i = 0; i < index.length; i++) {
                    index[i] = rng.nextInt(rows); // repeats too, as a sampler with replacement gives
                }
                int outOff = 5;
                float[] expected = new float[outOff + count * len + 4];
                java.util.Arrays.fill(expected, -7f); // outside the rows: must stay as it was
                for (int r = 0; r < count; r++) {
                    System.arraycopy(x, index[2 + r] * len, expected, outOff + r * len, len);
                }
                for (Kernels k : new Kernels[] {scalar, vector}) {
                    float[] out = new float[expected.length];
                    java.util.Arrays.fill(out, -7f);
                    k.gatherRows(x, len, index, 2, count, out, outOff);
                    assertArrayEquals(expected, out, k.description() + " len=" + len + " count=" + count);
                }
            }
        }
    }

    @Test
    void axpyAndDotMatchScalar() {
        SplittableRandom rng = new SplittableRandom(23);
        for (int len : lengths()) {
            float[] x = random(rng, len + 3, 1);
            float[] ys = random(rng, len + 1, 1);
            float[] yv = ys.clone();
            scalar.axpy(-0.37f, x, 3, ys, 1, len);
            vector.axpy(-0.37f, x, 3, yv, 1, len);
            for (int i = 0; i < ys.length; i++) {
                assertClose(ys[i], yv[i], Math.ulp(ys[i]) + Math.ulp(0.37f), "axpy len=" + len);
            }
            float ds = scalar.dot(x, 3, ys, 1, len);
            float dv = vector.dot(x, 3, ys, 1, len);
            assertClose(ds, dv, 2 * len * U * len + 0.0, "dot len=" + len);
        }
    }

    /**
     * A moment that decays below Float.MIN_NORMAL is stored as 0 by both kernels (tails included),
     * and the parameter is left as it was: subnormal moments cost a microcode assist per value on
     * Intel's cores and never decay away. A moment just above the threshold keeps its value. Adam
     * and RMSprop also compute no subnormal on the way: a tiny gradient adds nothing to the second
     * moment, a tiny moment (or RMSprop's tiny gradient) moves nothing.
     */
    @Test
    void optimizerStepsComputeNoSubnormals() {
        float small = Float.MIN_NORMAL; // β·small is subnormal for any β < 1
        for (Kernels k : new Kernels[] {scalar, vector}) {
            for (int len : lengths()) {
                String what = k.description() + " len=" + len;
                float[] g = new float[len];
                float[] p = filled(len, 0.5f);
                float[] m = filled(len, small);
                float[] v = filled(len, small);
                k.adamStep(p, m, v, 0, g, 0, len, 1e-3f, 1f, 0f, 0f, 0.9f, 0.999f, 1e-8f, 10f, 1000f);
                assertArrayEquals(new float[len], m, "adam m " + what);
                assertArrayEquals(new float[len], v, "adam v " + what);
                assertArrayEquals(filled(len, 0.5f), p, "adam p " + what);
                float[] r = filled(len, small);
                k.rmspropStep(p, r, 0, g, 0, len, 1e-3f, 1f, 0f, 0.99f, 1e-8f);
                assertArrayEquals(new float[len], r, "rmsprop r " + what);
                float[] velocity = filled(len, small);
                k.momentumStep(p, velocity, 0, g, 0, len, 0.1f, 1f, 0f, 0.9f, true);
                assertArrayEquals(new float[len], velocity, "momentum v " + what);
                assertArrayEquals(filled(len, 0.5f), p, "momentum p " + what);
                float[] kept = filled(len, 2 * Float.MIN_NORMAL);
                k.momentumStep(p, kept, 0, g, 0, len, 0.1f, 1f, 0f, 0.9f, false);
                assertArrayEquals(filled(len, 0.9f * (2 * Float.MIN_NORMAL)), kept, "momentum kept " + what);
                // a gradient whose (1 − β2)·d² is subnormal leaves v at β2·v (it would add ~70 ulps here)
                float[] tiny = filled(len, 1e-20f);
                float[] vNormal = filled(len, 2 * Float.MIN_NORMAL);
                k.adamStep(filled(len, 0.5f), new float[len], vNormal, 0, tiny, 0, len, 1e-3f, 1f, 0f, 0f, 0.9f, 0.999f,
                        1e-8f, 1f, 1f);
                assertArrayEquals(filled(len, 0.999f * (2 * Float.MIN_NORMAL)), vNormal, "adam tiny d " + what);
                // a moment whose η·c1·m is subnormal moves nothing: a parameter at 0 stays +0 (not −9e-41)
                float[] zero = new float[len];
                k.adamStep(zero, filled(len, 1e-37f), filled(len, 1f), 0, g, 0, len, 1e-3f, 1f, 0f, 0f, 0.9f, 0.999f,
                        1e-8f, 1f, 1f);
                assertArrayEquals(new float[len], zero, "adam tiny m " + what);
                // RMSprop likewise: r stays α·r (not + 10⁻⁴²), a parameter at 0 stays +0 (not −10⁻⁴⁰)
                float[] rNormal = filled(len, 2 * Float.MIN_NORMAL);
                k.rmspropStep(filled(len, 0.5f), rNormal, 0, tiny, 0, len, 1e-3f, 1f, 0f, 0.99f, 1e-8f);
                assertArrayEquals(filled(len, 0.99f * (2 * Float.MIN_NORMAL)), rNormal, "rmsprop tiny d " + what);
                k.rmspropStep(zero, filled(len, 1f), 0, filled(len, 1e-37f), 0, len, 1e-3f, 1f, 0f, 0.99f, 1e-8f);
                assertArrayEquals(new float[len], zero, "rmsprop tiny step " + what);
            }
        }
    }

    private static float[] filled(int len, float value) {
        float[] x = new float[len];
        java.util.Arrays.fill(x, value);
        return x;
    }

    /** Vector against scalar, tails included, with the gradient at another offset than the parameters (as a trainer's block buffer has it). */
    @Test
    void optimizerStepsAreBitExact() {
        SplittableRandom rng = new SplittableRandom(29);
        for (int len : lengths()) {
            float[] g = random(rng, len + 3, 5);
            float[] p0 = random(rng, len + 1, 1);
            float[] m0 = random(rng, len + 1, 0.1f);
            float[] v0 = random(rng, len + 1, 0.1f);
            for (int i = 0; i < v0.length; i++) {
                v0[i] = Math.abs(v0[i]);
            }
            float[][] s = {p0.clone(), m0.clone(), v0.clone()};
            float[][] v = {p0.clone(), m0.clone(), v0.clone()};
            scalar.sgdStep(s[0], 1, g, 3, len, 0.1f, 0.25f, 0.01f);
            vector.sgdStep(v[0], 1, g, 3, len, 0.1f, 0.25f, 0.01f);
            assertExact(s[0], v[0], "sgd len=" + len);
            for (boolean nesterov : new boolean[] {false, true}) {
                scalar.momentumStep(s[0], s[1], 1, g, 3, len, 0.1f, 0.25f, 0.01f, 0.9f, nesterov);
                vector.momentumStep(v[0], v[1], 1, g, 3, len, 0.1f, 0.25f, 0.01f, 0.9f, nesterov);
                assertExact(s[0], v[0], "momentum p len=" + len);
                assertExact(s[1], v[1], "momentum v len=" + len);
            }
            scalar.adamStep(s[0], s[1], s[2], 1, g, 3, len, 1e-3f, 0.25f, 0.01f, 0.02f, 0.9f, 0.999f, 1e-8f, 10f, 1000f);
            vector.adamStep(v[0], v[1], v[2], 1, g, 3, len, 1e-3f, 0.25f, 0.01f, 0.02f, 0.9f, 0.999f, 1e-8f, 10f, 1000f);
            assertExact(s[0], v[0], "adam p len=" + len);
            assertExact(s[1], v[1], "adam m len=" + len);
            assertExact(s[2], v[2], "adam v len=" + len);
            scalar.rmspropStep(s[0], s[2], 1, g, 3, len, 1e-3f, 0.25f, 0.01f, 0.99f, 1e-8f);
            vector.rmspropStep(v[0], v[2], 1, g, 3, len, 1e-3f, 0.25f, 0.01f, 0.99f, 1e-8f);
            assertExact(s[0], v[0], "rmsprop p len=" + len);
            assertExact(s[2], v[2], "rmsprop r len=" + len);
        }
    }

    /**
     * SGD on one sample's outer product δ·xᵀ must give the bits of the gradient through a buffer
     * (gemmAtB over one row) and then sgdStep, on either kernels, tails of the rows included; zeros
     * and negative zeros among δ and x test the sign of a zero product.
     */
    @Test
    void sgdOnAnOuterProductIsSgdOnItsGradient() {
        SplittableRandom rng = new SplittableRandom(31);
        int m = 7;
        for (int n : lengths()) {
            float[] delta = random(rng, 2 + m, 1);
            float[] x = random(rng, 3 + n, 1);
            delta[2] = 0f;
            delta[3] = -0f;
            if (n > 1) {
                x[4] = -0f;
            }
            float[] p0 = random(rng, 5 + m * n, 1);
            if (m * n > 2) {
                p0[6] = -0f;
            }
            for (Kernels kern : new Kernels[] {scalar, vector}) {
                float[] viaBuffer = p0.clone();
                float[] grad = new float[5 + m * n];
                kern.gemmAtB(delta, 2, m, x, 3, grad, 5, m, n, 1, false);
                kern.sgdStep(viaBuffer, 5, grad, 5, m * n, 0.1f, 0.5f, 0.01f);
                float[] direct = p0.clone();
                kern.sgdOuterStep(direct, 5, delta, 2, x, 3, m, n, 0.1f, 0.5f, 0.01f);
                assertExact(viaBuffer, direct, "sgd on δ·xᵀ, n=" + n + ", " + kern.description());
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    static void assertClose(double expected, double actual, double tolerance, String what) {
        if (!(Math.abs(expected - actual) <= tolerance)) {
            fail(what + ": scalar " + expected + " vs vector " + actual + " differ by " + Math.abs(expected - actual)
                    + " > " + tolerance);
        }
    }

    static void assertUlps(float[] expected, float[] actual, int ulps, String what) {
        for (int i = 0; i < expected.length; i++) {
            double tol = ulps * Math.max(Math.ulp(expected[i]), U);
            assertClose(expected[i], actual[i], tol, what + " at " + i);
        }
    }

    static void assertExact(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(what + " at " + i + ": scalar " + expected[i] + " vs vector " + actual[i]);
            }
        }
    }
}
