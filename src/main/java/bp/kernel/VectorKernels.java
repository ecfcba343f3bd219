package bp.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels written with the Panama Vector API. The species is a compile-time constant for the JIT
 * (a {@code static final}), which the API needs to turn vector objects into registers; it is
 * {@code SPECIES_PREFERRED} unless {@code -Dbp.vectorBits=128|256|512} asks for another width,
 * which is how the tests exercise every width on any machine.
 *
 * <p>Matrix products are all in broadcast form: each step broadcasts one element of A per row
 * of a block and multiplies it into vectors of a row of B, so a block of accumulators needs no lane
 * sums: 6 rows × 4 vectors (24 of AVX-512's 32 registers) where vectors are 512 bits wide, read
 * in place; elsewhere (AVX2's 16 registers) 4 rows × 2 vectors from copies of A and B packed so that
 * the JIT drops the bounds checks of the k loop ({@link #packed4x2}); blocks of 6, 4, 2 and 1 rows
 * read in place for the rest. The forward pass gets its B already packed, from weights packed once
 * per update into panels of the block's width ({@link #gemmPackedBias}). Column
 * tails shorter than a vector are finished in scalar code: masked accesses near an array's end
 * fall back to lane-by-lane Java code in the API.
 *
 * <p>No method here takes or returns a vector: the JIT keeps vectors in registers only inside one
 * compiled method, and a vector passed to a call it does not inline (a cold call site, or one past
 * the inlining budget) is boxed on the heap. Stores and lane sums are therefore written out where
 * they are needed, and e^x works in place on an array ({@link #expInPlace}).
 *
 * <p>Results never depend on whether the JIT has compiled a method yet, so training is reproducible
 * bit for bit: the API leaves the order of {@code reduceLanes(ADD)} unspecified and its {@code EXP}
 * and {@code TANH} are computed differently when interpreted (by {@code Math}) and compiled (by
 * SVML), so this class sums lanes in a fixed tree (with xor shuffles) and evaluates exp and tanh with
 * its own polynomials, made only of exactly rounded operations.
 */
public final class VectorKernels implements Kernels {

    static final VectorSpecies<Float> S = speciesFromProperty();
    static final int L = S.length();

    /**
     * Where the data of every scratch array and shared copy here starts: on a cache line where
     * {@link Alignment} knows where lines are, like the rows of the engine's buffers.
     */
    private static final int O = Alignment.ORIGIN;

    private static final VectorKernels INSTANCE = new VectorKernels();

    /** Lane permutations {@code i → i xor d} for the fixed-order lane sum; null where d ≥ L. */
    private static final VectorShuffle<Float> SWAP8 = L > 8 ? VectorShuffle.fromOp(S, i -> i ^ 8) : null;
    private static final VectorShuffle<Float> SWAP4 = L > 4 ? VectorShuffle.fromOp(S, i -> i ^ 4) : null;
    private static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(S, i -> i ^ 2);
    private static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(S, i -> i ^ 1);

    /**
     * Whether the GEMMs use register blocks of four vectors a row ({@code block6x4}): with 512-bit
     * vectors, on machines with AVX-512's 32 registers (a 512-bit species elsewhere is the Java
     * fallback of the tests, where it only has to be right). {@code -Dbp.wideBlocks=false} turns it off.
     */
    private static final boolean WIDE = L >= 16 && !"false".equals(System.getProperty("bp.wideBlocks"));

    /** Columns of C per register block, and so per panel of B: four vectors where WIDE, else two. */
    private static final int PANEL_WIDTH = WIDE ? 4 * L : 2 * L;

    /** Rows of B per cache block of the forward GEMM: 64 rows of 784 floats stay in L2. */
    private static final int FORWARD_COL_BLOCK = 64;

    private VectorKernels() {
    }

    /** The vector kernels, or null when the species is too narrow to pay. Called reflectively. */
    public static Kernels preferred() {
        return L >= 4 && L <= 16 ? INSTANCE : null;
    }

    private static VectorSpecies<Float> speciesFromProperty() {
        String bits = System.getProperty("bp.vectorBits");
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return switch (bits.trim()) {
            case "64" -> FloatVector.SPECIES_64;
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException(
                    "-Dbp.vectorBits must be 64, 128, 256 or 512, not '" + bits + "'");
        };
    }

    @Override
    public String description() {
        return "vector (" + S.vectorBitSize() + "-bit, " + L + " float lanes)";
    }

    // ---- C = A·Bᵀ + bias -------------------------------------------------------------------------

    @Override
    public void gemmABtBias(float[] a, int aOff, float[] b, int bOff, float[] bias, int biasOff,
                            float[] c, int cOff, int m, int n, int k) {
        // One dot product per output: the form for a row or two (online learning, single predictions)
        // and for layers narrower than a vector. Column blocks keep a slice of B in L2 for every row.
        for (int j0 = 0; j0 < n; j0 += FORWARD_COL_BLOCK) {
            int j1 = Math.min(n, j0 + FORWARD_COL_BLOCK);
            int i = 0;
            // two rows by two outputs at once: four dot products' chains interleave instead of each
            // waiting on its own FMA latency, and every one is summed exactly as dot() sums it
            for (; i + 2 <= m; i += 2) {
                int j = j0;
                for (; j + 2 <= j1; j += 2) {
                    dot2x2(a, aOff + i * k, b, bOff + j * k, k, c, cOff + i * n + j, n, bias,
                            bias == null ? 0 : biasOff + j);
                }
                for (; j < j1; j++) {
                    for (int r = i; r < i + 2; r++) {
                        float z = dot(a, aOff + r * k, b, bOff + j * k, k);
                        c[cOff + r * n + j] = bias == null ? z : z + bias[biasOff + j];
                    }
                }
            }
            for (; i < m; i++) {
                int j = j0;
                for (; j + 4 <= j1; j += 4) {
                    dot1x4(a, aOff + i * k, b, bOff + j * k, k, c, cOff + i * n + j, bias, bias == null ? 0 : biasOff + j);
                }
                for (; j < j1; j++) {
                    float z = dot(a, aOff + i * k, b, bOff + j * k, k);
                    c[cOff + i * n + j] = bias == null ? z : z + bias[biasOff + j];
                }
            }
        }
    }

    /**
     * Row {@code a0} of A dotted with the four rows of B from {@code b0} ({@code k} apart) into four
     * adjacent elements of C, plus the bias when there is one: a single row (batch 1, one
     * prediction) keeps eight chains and four streams of B in flight instead of two and one, and
     * each output is summed exactly as {@link #dot} sums it.
     */
    private static void dot1x4(float[] a, int a0, float[] b, int b0, int k, float[] c, int c0, float[] bias, int biasAt) {
        int bound = S.loopBound(k);
        float z0 = 0f;
        float z1 = 0f;
        float z2 = 0f;
        float z3 = 0f;
        int x = 0;
        if (bound > 0) {
            FloatVector s0 = FloatVector.zero(S), t0 = s0, s1 = s0, t1 = s0, s2 = s0, t2 = s0, s3 = s0, t3 = s0;
            for (; x + L < bound; x += 2 * L) {
                FloatVector u = FloatVector.fromArray(S, a, a0 + x);
                FloatVector v = FloatVector.fromArray(S, a, a0 + x + L);
                s0 = u.fma(FloatVector.fromArray(S, b, b0 + x), s0);
                t0 = v.fma(FloatVector.fromArray(S, b, b0 + x + L), t0);
                s1 = u.fma(FloatVector.fromArray(S, b, b0 + k + x), s1);
                t1 = v.fma(FloatVector.fromArray(S, b, b0 + k + x + L), t1);
                s2 = u.fma(FloatVector.fromArray(S, b, b0 + 2 * k + x), s2);
                t2 = v.fma(FloatVector.fromArray(S, b, b0 + 2 * k + x + L), t2);
                s3 = u.fma(FloatVector.fromArray(S, b, b0 + 3 * k + x), s3);
                t3 = v.fma(FloatVector.fromArray(S, b, b0 + 3 * k + x + L), t3);
            }
            for (; x < bound; x += L) {
                FloatVector u = FloatVector.fromArray(S, a, a0 + x);
                s0 = u.fma(FloatVector.fromArray(S, b, b0 + x), s0);
                s1 = u.fma(FloatVector.fromArray(S, b, b0 + k + x), s1);
                s2 = u.fma(FloatVector.fromArray(S, b, b0 + 2 * k + x), s2);
                s3 = u.fma(FloatVector.fromArray(S, b, b0 + 3 * k + x), s3);
            }
            FloatVector v0 = s0.add(t0);
            FloatVector v1 = s1.add(t1);
            FloatVector v2 = s2.add(t2);
            FloatVector v3 = s3.add(t3);
            if (SWAP8 != null) {
                v0 = v0.add(v0.rearrange(SWAP8));
                v1 = v1.add(v1.rearrange(SWAP8));
                v2 = v2.add(v2.rearrange(SWAP8));
                v3 = v3.add(v3.rearrange(SWAP8));
            }
            if (SWAP4 != null) {
                v0 = v0.add(v0.rearrange(SWAP4));
                v1 = v1.add(v1.rearrange(SWAP4));
                v2 = v2.add(v2.rearrange(SWAP4));
                v3 = v3.add(v3.rearrange(SWAP4));
            }
            v0 = v0.add(v0.rearrange(SWAP2));
            v1 = v1.add(v1.rearrange(SWAP2));
            v2 = v2.add(v2.rearrange(SWAP2));
            v3 = v3.add(v3.rearrange(SWAP2));
            v0 = v0.add(v0.rearrange(SWAP1));
            v1 = v1.add(v1.rearrange(SWAP1));
            v2 = v2.add(v2.rearrange(SWAP1));
            v3 = v3.add(v3.rearrange(SWAP1));
            z0 = v0.lane(0);
            z1 = v1.lane(0);
            z2 = v2.lane(0);
            z3 = v3.lane(0);
        }
        for (; x < k; x++) {
            z0 += a[a0 + x] * b[b0 + x];
            z1 += a[a0 + x] * b[b0 + k + x];
            z2 += a[a0 + x] * b[b0 + 2 * k + x];
            z3 += a[a0 + x] * b[b0 + 3 * k + x];
        }
        if (bias != null) {
            z0 += bias[biasAt];
            z1 += bias[biasAt + 1];
            z2 += bias[biasAt + 2];
            z3 += bias[biasAt + 3];
        }
        c[c0] = z0;
        c[c0 + 1] = z1;
        c[c0 + 2] = z2;
        c[c0 + 3] = z3;
    }

    /**
     * Rows {@code a0} and {@code a0 + k} of A dotted with rows {@code b0} and {@code b0 + k} of B into
     * the 2×2 block of C at {@code c0} (rows {@code ldc} apart), plus the bias when there is one:
     * each of the four the same two alternating accumulators, lane tree and scalar tail as {@link #dot}.
     */
    private static void dot2x2(float[] a, int a0, float[] b, int b0, int k, float[] c, int c0, int ldc,
                               float[] bias, int biasAt) {
        int bound = S.loopBound(k);
        float z00 = 0f;
        float z01 = 0f;
        float z10 = 0f;
        float z11 = 0f;
        int x = 0;
        if (bound > 0) {
            FloatVector s00 = FloatVector.zero(S), t00 = s00, s01 = s00, t01 = s00;
            FloatVector s10 = s00, t10 = s00, s11 = s00, t11 = s00;
            for (; x + L < bound; x += 2 * L) {
                FloatVector u0 = FloatVector.fromArray(S, a, a0 + x);
                FloatVector v0 = FloatVector.fromArray(S, a, a0 + x + L);
                FloatVector u1 = FloatVector.fromArray(S, a, a0 + k + x);
                FloatVector v1 = FloatVector.fromArray(S, a, a0 + k + x + L);
                FloatVector w0 = FloatVector.fromArray(S, b, b0 + x);
                FloatVector y0 = FloatVector.fromArray(S, b, b0 + x + L);
                FloatVector w1 = FloatVector.fromArray(S, b, b0 + k + x);
                FloatVector y1 = FloatVector.fromArray(S, b, b0 + k + x + L);
                s00 = u0.fma(w0, s00);
                t00 = v0.fma(y0, t00);
                s01 = u0.fma(w1, s01);
                t01 = v0.fma(y1, t01);
                s10 = u1.fma(w0, s10);
                t10 = v1.fma(y0, t10);
                s11 = u1.fma(w1, s11);
                t11 = v1.fma(y1, t11);
            }
            for (; x < bound; x += L) {
                FloatVector u0 = FloatVector.fromArray(S, a, a0 + x);
                FloatVector u1 = FloatVector.fromArray(S, a, a0 + k + x);
                FloatVector w0 = FloatVector.fromArray(S, b, b0 + x);
                FloatVector w1 = FloatVector.fromArray(S, b, b0 + k + x);
                s00 = u0.fma(w0, s00);
                s01 = u0.fma(w1, s01);
                s10 = u1.fma(w0, s10);
                s11 = u1.fma(w1, s11);
            }
            FloatVector v00 = s00.add(t00);
            FloatVector v01 = s01.add(t01);
            FloatVector v10 = s10.add(t10);
            FloatVector v11 = s11.add(t11);
            if (SWAP8 != null) {
                v00 = v00.add(v00.rearrange(SWAP8));
                v01 = v01.add(v01.rearrange(SWAP8));
                v10 = v10.add(v10.rearrange(SWAP8));
                v11 = v11.add(v11.rearrange(SWAP8));
            }
            if (SWAP4 != null) {
                v00 = v00.add(v00.rearrange(SWAP4));
                v01 = v01.add(v01.rearrange(SWAP4));
                v10 = v10.add(v10.rearrange(SWAP4));
                v11 = v11.add(v11.rearrange(SWAP4));
            }
            v00 = v00.add(v00.rearrange(SWAP2));
            v01 = v01.add(v01.rearrange(SWAP2));
            v10 = v10.add(v10.rearrange(SWAP2));
            v11 = v11.add(v11.rearrange(SWAP2));
            v00 = v00.add(v00.rearrange(SWAP1));
            v01 = v01.add(v01.rearrange(SWAP1));
            v10 = v10.add(v10.rearrange(SWAP1));
            v11 = v11.add(v11.rearrange(SWAP1));
            z00 = v00.lane(0);
            z01 = v01.lane(0);
            z10 = v10.lane(0);
            z11 = v11.lane(0);
        }
        for (; x < k; x++) {
            z00 += a[a0 + x] * b[b0 + x];
            z01 += a[a0 + x] * b[b0 + k + x];
            z10 += a[a0 + k + x] * b[b0 + x];
            z11 += a[a0 + k + x] * b[b0 + k + x];
        }
        if (bias != null) {
            z00 += bias[biasAt];
            z01 += bias[biasAt + 1];
            z10 += bias[biasAt];
            z11 += bias[biasAt + 1];
        }
        c[c0] = z00;
        c[c0 + 1] = z01;
        c[c0 + ldc] = z10;
        c[c0 + ldc + 1] = z11;
    }

    // ---- C = A·Wᵀ + bias, W packed ----------------------------------------------------------

    @Override
    public void gemmPackedBias(float[] a, int aOff, float[] packed, int pOff, float[] bias, int biasOff,
                               float[] c, int cOff, int ldc, int m, int n, int k) {
        fillRows(bias, biasOff, c, cOff, ldc, m, n);
        broadcastGemm(a, aOff, k, 1, packed, pOff, 0, true, c, cOff, ldc, m, n, k, true);
    }

    @Override
    public void gemmPackedBias(float[] a, int aOff, float[] packed, int pOff, float[] bias, int biasOff,
                               float[] c, int cOff, int ldc, int m, int n, int k, long token) {
        if (token == NO_TOKEN || WIDE || m < ROW_BLOCK || n < PANEL_WIDTH) {
            gemmPackedBias(a, aOff, packed, pOff, bias, biasOff, c, cOff, ldc, m, n, k); // one-off, or A read in place
            return;
        }
        float[] rowBlocks = sharedRowBlocks(a, aOff, m, k, token);
        fillRows(bias, biasOff, c, cOff, ldc, m, n);
        broadcastGemm(a, aOff, k, 1, packed, pOff, 0, true, c, cOff, ldc, m, n, k, true, rowBlocks, O);
    }

    // ---- C = A·Bᵀ + bias, B read in place ---------------------------------------------------------

    @Override
    public boolean forwardReadsWeightsInPlace(int n) {
        return WIDE && n % L == 0;
    }

    /**
     * Computes Cᵀ = B·Aᵀ + bias with the rows of B broadcast in place and A's rows copied to panels,
     * as {@link #gemmPackedBias} computes C from B's packed copy: each element the same FMA chain,
     * from zero over p, with the bias added last. Cᵀ's rows are padded to whole vectors, so that
     * no element falls into a scalar column tail, and Cᵀ goes back to C transposed.
     */
    @Override
    public void gemmABtBiasInPlace(float[] a, int aOff, float[] b, int bOff, float[] bias, int biasOff,
                                   float[] c, int cOff, int ldc, int m, int n, int k, long token) {
        transposedProduct(a, aOff, b, bOff, null, 0, bias, biasOff, c, cOff, ldc, m, n, k, token);
    }

    /** Where the packed form has no scalar tail of units that would sum in another order (as {@link #forwardReadsWeightsInPlace}). */
    @Override
    public boolean weightBlocksPay(int n) {
        return forwardReadsWeightsInPlace(n);
    }

    @Override
    public void packWeightBlocks(float[] w, int wOff, int n, int k, float[] blocks, int blocksOff) {
        packRowBlocks(w, wOff, k, 1, n / ROW_BLOCK, k, blocks, blocksOff);
    }

    /**
     * {@link #gemmABtBiasInPlace}'s product with W's blocks of six units already copied, so that
     * every block goes through {@link #packed6x4} (the units past the last block read in place)
     * instead of the rows broadcast strided against the packed panels ({@link #block6x4}): layers 0
     * and 1 of 784-512-256-10 at 64 rows 127-136 GFLOP/s against 111-116 (harness, Intel Xeon);
     * bp bench predict, alternating runs: batch 1000 on two cores 211-227 k samples/s against
     * 199-211 k, on one core 110-116 k against 105-109 k.
     */
    @Override
    public void gemmBlocksBias(float[] a, int aOff, float[] blocks, int blocksOff, float[] w, int wOff, float[] bias,
                               int biasOff, float[] c, int cOff, int ldc, int m, int n, int k) {
        transposedProduct(a, aOff, w, wOff, blocks, blocksOff, bias, biasOff, c, cOff, ldc, m, n, k, NO_TOKEN);
    }

    /**
     * Cᵀ = B·Aᵀ + bias, then C: B's rows broadcast in place ({@link #IN_PLACE_ROWS} at a time), or
     * from {@code bBlocks} where B's blocks of rows are already copied there (all rows at once).
     */
    private void transposedProduct(float[] a, int aOff, float[] b, int bOff, float[] bBlocks, int bBlocksOff,
                                   float[] bias, int biasOff, float[] c, int cOff, int ldc, int m, int n, int k,
                                   long token) {
        if (m == 0 || n == 0) {
            return;
        }
        int padded = (m + L - 1) / L * L;
        SharedCopy copy = SHARED_COLUMNS.get();
        if (token == NO_TOKEN || !copy.holds(token, aOff, m, k)) {
            // A's rows as the first m columns of a B [k×padded] in packRows' panels; the padding columns hold
            // whatever the array held: each column of the product depends on its own column of B alone
            packRows(a, aOff, padded, k, 0, m, copy.reserve(padded * k, token, aOff, m, k), O);
        }
        float[] panels = copy.values;
        float[] ct = scratch(TRANSPOSED_C, n * padded);
        for (int j = 0; j < n; j++) {
            java.util.Arrays.fill(ct, O + j * padded, O + (j + 1) * padded, bias == null ? 0f : bias[biasOff + j]);
        }
        if (bBlocks != null) {
            broadcastGemm(b, bOff, k, 1, panels, O, 0, true, ct, O, padded, n, padded, k, true, bBlocks, bBlocksOff);
        } else {
            for (int j = 0; j < n; j += IN_PLACE_ROWS) {
                int rows = Math.min(IN_PLACE_ROWS, n - j);
                broadcastGemm(b, bOff + j * k, k, 1, panels, O, 0, true, ct, O + j * padded, padded, rows, padded, k,
                        true);
            }
        }
        transpose(ct, O, padded, n, m, c, cOff, ldc);
    }

    /**
     * Rows of B (weights) per pass over A's panels in {@link #gemmABtBiasInPlace}: B's rows come from
     * L3 (a layer's weights do not fit in L2) and are read again for every panel of A, so a few at a
     * time, to find them in L2 the second time.
     */
    private static final int IN_PLACE_ROWS = 48;

    /** Each thread's copy of A's rows in panels, for {@link #gemmABtBiasInPlace}. */
    private static final ThreadLocal<SharedCopy> SHARED_COLUMNS = ThreadLocal.withInitial(SharedCopy::new);

    /** Each thread's Cᵀ for {@link #gemmABtBiasInPlace}, grown to the largest it has seen. */
    private static final ThreadLocal<float[][]> TRANSPOSED_C = ThreadLocal.withInitial(() -> new float[1][0]);

    /** Each of C's m rows (n wide, ldc apart) set to the bias, or to zero without one: where the products' sums are added. */
    private static void fillRows(float[] bias, int biasOff, float[] c, int cOff, int ldc, int m, int n) {
        for (int i = 0; i < m; i++) {
            if (bias == null) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            } else {
                System.arraycopy(bias, biasOff, c, cOff + i * ldc, n);
            }
        }
    }

    /**
     * A thread's copy of an operand shared by the calls that give the same token (see {@link
     * Kernels#newToken()}), with the offset and shape it was made for as a check.
     */
    private static final class SharedCopy {
        float[] values = new float[0];
        long token;
        int off;
        int rows;
        int cols;

        boolean holds(long token, int off, int rows, int cols) {
            return this.token == token && this.off == off && this.rows == rows && this.cols == cols;
        }

        /** Room for {@code len} floats from {@link #O}, to be filled with the copy made for these arguments. */
        float[] reserve(int len, long token, int off, int rows, int cols) {
            if (values.length < O + len) {
                values = new float[O + len];
            }
            this.token = token;
            this.off = off;
            this.rows = rows;
            this.cols = cols;
            return values;
        }
    }

    /** Each thread's copy of A in blocks, for {@link #gemmPackedBias(float[], int, float[], int, float[], int, float[], int, int, int, int, int, long)}. */
    private static final ThreadLocal<SharedCopy> SHARED_ROWS = ThreadLocal.withInitial(SharedCopy::new);

    /**
     * Rows {@code [0, 4·⌊m/4⌋)} of A (k columns, rows k apart) in {@link #packRowBlocks}' layout,
     * copied by this thread's first call with {@code token} and reused by its next calls with it.
     */
    private static float[] sharedRowBlocks(float[] a, int aOff, int m, int k, long token) {
        SharedCopy copy = SHARED_ROWS.get();
        if (copy.holds(token, aOff, m, k)) {
            return copy.values;
        }
        int blocks = m / ROW_BLOCK;
        float[] rowBlocks = copy.reserve(blocks * ROW_BLOCK * k, token, aOff, m, k);
        packRowBlocks(a, aOff, k, 1, blocks, k, rowBlocks, O);
        return rowBlocks;
    }

    @Override
    public int panelWidth() {
        return PANEL_WIDTH;
    }

    @Override
    public boolean transposedForwardPays(int n) {
        // the packed path ends a layer that is not whole vectors in a scalar tail, which costs more
        // than dot products until the vectors are most of the layer (n = 10 on AVX2: 12 vs 35 GFLOP/s)
        return n % L == 0 || n >= 2 * L;
    }

    /**
     * Eight rows at a time, a vector of each in turn: the rows are scattered over a data set far
     * larger than the caches, and eight streams of loads in flight wait for memory together where
     * one row after another waits eight times. 128 random rows of 784 floats from 60 000 (Zen 5):
     * 32 µs against 58 µs with a copy per row; four rows at a time, 38 µs. Training 784-512-256-10
     * (one JVM alternating 1-epoch fits, 12 pairs): batch 128 +2.9 % on one thread, +1.0 % on
     * two; batch 32 on two threads +2.6 %.
     */
    @Override
    public void gatherRows(float[] x, int len, int[] index, int from, int count, float[] out, int outOff) {
        int r = 0;
        int bound = S.loopBound(len);
        for (; r + GATHER_ROWS <= count; r += GATHER_ROWS) {
            int x0 = index[from + r] * len;
            int x1 = index[from + r + 1] * len;
            int x2 = index[from + r + 2] * len;
            int x3 = index[from + r + 3] * len;
            int x4 = index[from + r + 4] * len;
            int x5 = index[from + r + 5] * len;
            int x6 = index[from + r + 6] * len;
            int x7 = index[from + r + 7] * len;
            int o = outOff + r * len;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector.fromArray(S, x, x0 + j).intoArray(out, o + j);
                FloatVector.fromArray(S, x, x1 + j).intoArray(out, o + len + j);
                FloatVector.fromArray(S, x, x2 + j).intoArray(out, o + 2 * len + j);
                FloatVector.fromArray(S, x, x3 + j).intoArray(out, o + 3 * len + j);
                FloatVector.fromArray(S, x, x4 + j).intoArray(out, o + 4 * len + j);
                FloatVector.fromArray(S, x, x5 + j).intoArray(out, o + 5 * len + j);
                FloatVector.fromArray(S, x, x6 + j).intoArray(out, o + 6 * len + j);
                FloatVector.fromArray(S, x, x7 + j).intoArray(out, o + 7 * len + j);
            }
            if (j < len) { // the rows' last floats, fewer than a vector
                int tail = len - j;
                System.arraycopy(x, x0 + j, out, o + j, tail);
                System.arraycopy(x, x1 + j, out, o + len + j, tail);
                System.arraycopy(x, x2 + j, out, o + 2 * len + j, tail);
                System.arraycopy(x, x3 + j, out, o + 3 * len + j, tail);
                System.arraycopy(x, x4 + j, out, o + 4 * len + j, tail);
                System.arraycopy(x, x5 + j, out, o + 5 * len + j, tail);
                System.arraycopy(x, x6 + j, out, o + 6 * len + j, tail);
                System.arraycopy(x, x7 + j, out, o + 7 * len + j, tail);
            }
        }
        ScalarKernels.INSTANCE.gatherRows(x, len, index, from + r, count - r, out, outOff + r * len);
    }

    /** Rows per pass of {@link #gatherRows}. */
    private static final int GATHER_ROWS = 8;

    /**
     * Gathers each column of a block of L rows into one vector (lane l from row l) and stores it as
     * a contiguous piece of a row of T; the rows left over are copied one value at a time.
     */
    @Override
    public void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff, int ldt) {
        transpose(a, aOff, cols, rows, cols, t, tOff, ldt);
    }

    /** As {@link #transpose(float[], int, int, int, float[], int, int)} with A's rows {@code lda} apart. */
    private static void transpose(float[] a, int aOff, int lda, int rows, int cols, float[] t, int tOff, int ldt) {
        int i = 0;
        if (cols > 0 && rows >= L) {
            int[] rowStarts = strideMap(lda);
            for (; i + L <= rows; i += L) {
                int block = aOff + i * lda;
                int j = 0;
                if (L == 16) {
                    j = transpose16(a, block, lda, cols, t, tOff + i, ldt);
                } else if (L == 8) {
                    j = transpose8(a, block, lda, cols, t, tOff + i, ldt);
                }
                for (; j < cols; j++) {
                    FloatVector.fromArray(S, a, block + j, rowStarts, 0).intoArray(t, tOff + j * ldt + i);
                }
            }
        }
        for (; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[tOff + j * ldt + i] = a[aOff + i * lda + j];
            }
        }
    }

    /**
     * Lanes whose index has bit d set, for the stage d of {@link #transpose8} and {@link
     * #transpose16}; null where d ≥ L.
     */
    private static final VectorMask<Float> BIT8 = L > 8 ? lanesWithBit(8) : null;
    private static final VectorMask<Float> BIT4 = L > 4 ? lanesWithBit(4) : null;
    private static final VectorMask<Float> BIT2 = lanesWithBit(2);
    private static final VectorMask<Float> BIT1 = lanesWithBit(1);

    private static VectorMask<Float> lanesWithBit(int d) {
        boolean[] bits = new boolean[L];
        for (int l = 0; l < L; l++) {
            bits[l] = (l & d) != 0;
        }
        return VectorMask.fromArray(S, bits, 0);
    }

    /**
     * Transposes the 8×8 blocks of A at {@code a0 + j} for {@code j = 0, 8, …} below {@code cols}
     * (rows {@code lda} apart) into T at {@code t0 + j·ldt} (rows {@code ldt} apart) in registers,
     * for 256-bit vectors: three stages (d = 4, 2, 1) that swap the off-diagonal d×d blocks of
     * every 2d×2d block. Each row pair (i, i + d) takes one lane permutation {@code l → l xor d} of
     * each row and two blends with a constant mask, 24 one-vector permutes and 24 blends a block;
     * the two-vector {@code rearrange} of {@link #transpose16} costs two permutes, a blend and an
     * index check on AVX2. The loop is here, not in the caller, so that the masks and permutations
     * stay in registers and the loads' bounds checks leave the loop. packRows of 128×784 on Zen 3:
     * 0.24 ns a float, against 0.45 with two-vector rearranges and a call per block. Returns the
     * first column not transposed.
     */
    private static int transpose8(float[] a, int a0, int lda, int cols, float[] t, int t0, int ldt) {
        int blocks = cols / 8;
        for (int b = 0; b < blocks; b++) {
            int j = 8 * b;
            int s = a0 + j;
            FloatVector r0 = FloatVector.fromArray(S, a, s);
            FloatVector r1 = FloatVector.fromArray(S, a, s + lda);
            FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * lda);
            FloatVector r3 = FloatVector.fromArray(S, a, s + 3 * lda);
            FloatVector r4 = FloatVector.fromArray(S, a, s + 4 * lda);
            FloatVector r5 = FloatVector.fromArray(S, a, s + 5 * lda);
            FloatVector r6 = FloatVector.fromArray(S, a, s + 6 * lda);
            FloatVector r7 = FloatVector.fromArray(S, a, s + 7 * lda);
            // stage d, rows i and i + d: row i keeps its lanes without bit d and takes row i + d's
            // moved down by d; row i + d keeps its lanes with bit d and takes row i's moved up by d
            FloatVector x = r0.rearrange(SWAP4), y = r4.rearrange(SWAP4);
            r0 = r0.blend(y, BIT4);
            r4 = x.blend(r4, BIT4);
            x = r1.rearrange(SWAP4);
            y = r5.rearrange(SWAP4);
            r1 = r1.blend(y, BIT4);
            r5 = x.blend(r5, BIT4);
            x = r2.rearrange(SWAP4);
            y = r6.rearrange(SWAP4);
            r2 = r2.blend(y, BIT4);
            r6 = x.blend(r6, BIT4);
            x = r3.rearrange(SWAP4);
            y = r7.rearrange(SWAP4);
            r3 = r3.blend(y, BIT4);
            r7 = x.blend(r7, BIT4);
            x = r0.rearrange(SWAP2);
            y = r2.rearrange(SWAP2);
            r0 = r0.blend(y, BIT2);
            r2 = x.blend(r2, BIT2);
            x = r1.rearrange(SWAP2);
            y = r3.rearrange(SWAP2);
            r1 = r1.blend(y, BIT2);
            r3 = x.blend(r3, BIT2);
            x = r4.rearrange(SWAP2);
            y = r6.rearrange(SWAP2);
            r4 = r4.blend(y, BIT2);
            r6 = x.blend(r6, BIT2);
            x = r5.rearrange(SWAP2);
            y = r7.rearrange(SWAP2);
            r5 = r5.blend(y, BIT2);
            r7 = x.blend(r7, BIT2);
            int d = t0 + j * ldt;
            x = r0.rearrange(SWAP1);
            y = r1.rearrange(SWAP1);
            r0.blend(y, BIT1).intoArray(t, d);
            x.blend(r1, BIT1).intoArray(t, d + ldt);
            x = r2.rearrange(SWAP1);
            y = r3.rearrange(SWAP1);
            r2.blend(y, BIT1).intoArray(t, d + 2 * ldt);
            x.blend(r3, BIT1).intoArray(t, d + 3 * ldt);
            x = r4.rearrange(SWAP1);
            y = r5.rearrange(SWAP1);
            r4.blend(y, BIT1).intoArray(t, d + 4 * ldt);
            x.blend(r5, BIT1).intoArray(t, d + 5 * ldt);
            x = r6.rearrange(SWAP1);
            y = r7.rearrange(SWAP1);
            r6.blend(y, BIT1).intoArray(t, d + 6 * ldt);
            x.blend(r7, BIT1).intoArray(t, d + 7 * ldt);
        }
        return 8 * blocks;
    }

    /**
     * Transposes the 16×16 blocks of A at {@code a0 + j} for {@code j = 0, 16, …} below {@code cols}
     * (rows {@code lda} apart) into T at {@code t0 + j·ldt} (rows {@code ldt} apart) in registers,
     * for 512-bit vectors, as {@link #transpose8} does for 256-bit ones: four stages (d = 8, 4, 2,
     * 1) that swap the off-diagonal d×d blocks of every 2d×2d block, each row pair (i, i + d) with
     * one lane permutation {@code l → l xor d} of each row and two blends with a constant mask. The
     * two-vector {@code rearrange} this replaces costs two permutes and a blend per row and stage,
     * twice the permutes: packRows of 512×784 on Zen 5 takes 63 µs instead of 95 (a plain copy of
     * it 38). Training 784-512-256-10 (one JVM alternating one-epoch fits, 30 pairs): batch 32
     * +2.9 % on one thread, +1.1 % on two; batch 128 +0.6 % on one. Returns the first column not
     * transposed.
     */
    private static int transpose16(float[] a, int a0, int lda, int cols, float[] t, int t0, int ldt) {
        int blocks = cols / 16;
        for (int b = 0; b < blocks; b++) {
            int j = 16 * b;
            int s = a0 + j;
            FloatVector r0 = FloatVector.fromArray(S, a, s);
            FloatVector r1 = FloatVector.fromArray(S, a, s + 1 * lda);
            FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * lda);
            FloatVector r3 = FloatVector.fromArray(S, a, s + 3 * lda);
            FloatVector r4 = FloatVector.fromArray(S, a, s + 4 * lda);
            FloatVector r5 = FloatVector.fromArray(S, a, s + 5 * lda);
            FloatVector r6 = FloatVector.fromArray(S, a, s + 6 * lda);
            FloatVector r7 = FloatVector.fromArray(S, a, s + 7 * lda);
            FloatVector r8 = FloatVector.fromArray(S, a, s + 8 * lda);
            FloatVector r9 = FloatVector.fromArray(S, a, s + 9 * lda);
            FloatVector r10 = FloatVector.fromArray(S, a, s + 10 * lda);
            FloatVector r11 = FloatVector.fromArray(S, a, s + 11 * lda);
            FloatVector r12 = FloatVector.fromArray(S, a, s + 12 * lda);
            FloatVector r13 = FloatVector.fromArray(S, a, s + 13 * lda);
            FloatVector r14 = FloatVector.fromArray(S, a, s + 14 * lda);
            FloatVector r15 = FloatVector.fromArray(S, a, s + 15 * lda);
            // stage d, rows i and i + d: row i keeps its lanes without bit d and takes row i + d's
            // moved down by d; row i + d keeps its lanes with bit d and takes row i's moved up by d
            FloatVector x;
            FloatVector y;
            x = r0.rearrange(SWAP8);
            y = r8.rearrange(SWAP8);
            r0 = r0.blend(y, BIT8);
            r8 = x.blend(r8, BIT8);
            x = r1.rearrange(SWAP8);
            y = r9.rearrange(SWAP8);
            r1 = r1.blend(y, BIT8);
            r9 = x.blend(r9, BIT8);
            x = r2.rearrange(SWAP8);
            y = r10.rearrange(SWAP8);
            r2 = r2.blend(y, BIT8);
            r10 = x.blend(r10, BIT8);
            x = r3.rearrange(SWAP8);
            y = r11.rearrange(SWAP8);
            r3 = r3.blend(y, BIT8);
            r11 = x.blend(r11, BIT8);
            x = r4.rearrange(SWAP8);
            y = r12.rearrange(SWAP8);
            r4 = r4.blend(y, BIT8);
            r12 = x.blend(r12, BIT8);
            x = r5.rearrange(SWAP8);
            y = r13.rearrange(SWAP8);
            r5 = r5.blend(y, BIT8);
            r13 = x.blend(r13, BIT8);
            x = r6.rearrange(SWAP8);
            y = r14.rearrange(SWAP8);
            r6 = r6.blend(y, BIT8);
            r14 = x.blend(r14, BIT8);
            x = r7.rearrange(SWAP8);
            y = r15.rearrange(SWAP8);
            r7 = r7.blend(y, BIT8);
            r15 = x.blend(r15, BIT8);
            x = r0.rearrange(SWAP4);
            y = r4.rearrange(SWAP4);
            r0 = r0.blend(y, BIT4);
            r4 = x.blend(r4, BIT4);
            x = r1.rearrange(SWAP4);
            y = r5.rearrange(SWAP4);
            r1 = r1.blend(y, BIT4);
            r5 = x.blend(r5, BIT4);
            x = r2.rearrange(SWAP4);
            y = r6.rearrange(SWAP4);
            r2 = r2.blend(y, BIT4);
            r6 = x.blend(r6, BIT4);
            x = r3.rearrange(SWAP4);
            y = r7.rearrange(SWAP4);
            r3 = r3.blend(y, BIT4);
            r7 = x.blend(r7, BIT4);
            x = r8.rearrange(SWAP4);
            y = r12.rearrange(SWAP4);
            r8 = r8.blend(y, BIT4);
            r12 = x.blend(r12, BIT4);
            x = r9.rearrange(SWAP4);
            y = r13.rearrange(SWAP4);
            r9 = r9.blend(y, BIT4);
            r13 = x.blend(r13, BIT4);
            x = r10.rearrange(SWAP4);
            y = r14.rearrange(SWAP4);
            r10 = r10.blend(y, BIT4);
            r14 = x.blend(r14, BIT4);
            x = r11.rearrange(SWAP4);
            y = r15.rearrange(SWAP4);
            r11 = r11.blend(y, BIT4);
            r15 = x.blend(r15, BIT4);
            x = r0.rearrange(SWAP2);
            y = r2.rearrange(SWAP2);
            r0 = r0.blend(y, BIT2);
            r2 = x.blend(r2, BIT2);
            x = r1.rearrange(SWAP2);
            y = r3.rearrange(SWAP2);
            r1 = r1.blend(y, BIT2);
            r3 = x.blend(r3, BIT2);
            x = r4.rearrange(SWAP2);
            y = r6.rearrange(SWAP2);
            r4 = r4.blend(y, BIT2);
            r6 = x.blend(r6, BIT2);
            x = r5.rearrange(SWAP2);
            y = r7.rearrange(SWAP2);
            r5 = r5.blend(y, BIT2);
            r7 = x.blend(r7, BIT2);
            x = r8.rearrange(SWAP2);
            y = r10.rearrange(SWAP2);
            r8 = r8.blend(y, BIT2);
            r10 = x.blend(r10, BIT2);
            x = r9.rearrange(SWAP2);
            y = r11.rearrange(SWAP2);
            r9 = r9.blend(y, BIT2);
            r11 = x.blend(r11, BIT2);
            x = r12.rearrange(SWAP2);
            y = r14.rearrange(SWAP2);
            r12 = r12.blend(y, BIT2);
            r14 = x.blend(r14, BIT2);
            x = r13.rearrange(SWAP2);
            y = r15.rearrange(SWAP2);
            r13 = r13.blend(y, BIT2);
            r15 = x.blend(r15, BIT2);
            int d = t0 + j * ldt;
            x = r0.rearrange(SWAP1);
            y = r1.rearrange(SWAP1);
            r0.blend(y, BIT1).intoArray(t, d);
            x.blend(r1, BIT1).intoArray(t, d + ldt);
            x = r2.rearrange(SWAP1);
            y = r3.rearrange(SWAP1);
            r2.blend(y, BIT1).intoArray(t, d + 2 * ldt);
            x.blend(r3, BIT1).intoArray(t, d + 3 * ldt);
            x = r4.rearrange(SWAP1);
            y = r5.rearrange(SWAP1);
            r4.blend(y, BIT1).intoArray(t, d + 4 * ldt);
            x.blend(r5, BIT1).intoArray(t, d + 5 * ldt);
            x = r6.rearrange(SWAP1);
            y = r7.rearrange(SWAP1);
            r6.blend(y, BIT1).intoArray(t, d + 6 * ldt);
            x.blend(r7, BIT1).intoArray(t, d + 7 * ldt);
            x = r8.rearrange(SWAP1);
            y = r9.rearrange(SWAP1);
            r8.blend(y, BIT1).intoArray(t, d + 8 * ldt);
            x.blend(r9, BIT1).intoArray(t, d + 9 * ldt);
            x = r10.rearrange(SWAP1);
            y = r11.rearrange(SWAP1);
            r10.blend(y, BIT1).intoArray(t, d + 10 * ldt);
            x.blend(r11, BIT1).intoArray(t, d + 11 * ldt);
            x = r12.rearrange(SWAP1);
            y = r13.rearrange(SWAP1);
            r12.blend(y, BIT1).intoArray(t, d + 12 * ldt);
            x.blend(r13, BIT1).intoArray(t, d + 13 * ldt);
            x = r14.rearrange(SWAP1);
            y = r15.rearrange(SWAP1);
            r14.blend(y, BIT1).intoArray(t, d + 14 * ldt);
            x.blend(r15, BIT1).intoArray(t, d + 15 * ldt);
        }
        return blocks * 16;
    }

    /** Gather maps {0, cols, 2·cols, …} by row length, made once per length (a network has a few). */
    private static volatile int[][] strideMaps = new int[0][];

    private static int[] strideMap(int cols) {
        for (int[] map : strideMaps) {
            if (map[1] == cols) {
                return map;
            }
        }
        synchronized (VectorKernels.class) {
            int[][] maps = strideMaps;
            for (int[] map : maps) {
                if (map[1] == cols) {
                    return map;
                }
            }
            int[] map = new int[L];
            for (int l = 0; l < L; l++) {
                map[l] = l * cols;
            }
            int[][] grown = java.util.Arrays.copyOf(maps, maps.length + 1);
            grown[maps.length] = map;
            strideMaps = grown;
            return map;
        }
    }

    // ---- C = A·B ----------------------------------------------------------------------------

    @Override
    public void gemmAB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                       boolean accumulate) {
        broadcastGemm(a, aOff, lda, 1, b, bOff, n, false, c, cOff, n, m, n, k, accumulate);
    }

    // ---- C += Aᵀ·B --------------------------------------------------------------------------

    @Override
    public void gemmAtB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                        boolean accumulate) {
        broadcastGemm(a, aOff, 1, lda, b, bOff, n, false, c, cOff, n, m, n, k, accumulate);
    }

    @Override
    public void gemmAtB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                        boolean accumulate, long token) {
        int full = n / PANEL_WIDTH * PANEL_WIDTH;
        if (token == NO_TOKEN || WIDE || m < ROW_BLOCK || full == 0) {
            gemmAtB(a, aOff, lda, b, bOff, c, cOff, m, n, k, accumulate); // one-off, AVX-512 (see widePacks), or too few rows
            return;
        }
        float[] panels = sharedPanels(b, bOff, n, k, full, token);
        if (k <= ROWS_OUTER_MAX_K) {
            rowsOuter(a, aOff, 1, lda, panels, O, c, cOff, n, m, full, k, accumulate);
        } else {
            broadcastGemm(a, aOff, 1, lda, panels, O, 0, true, c, cOff, n, m, full, k, accumulate);
        }
        if (full < n) {
            stridedGemm(a, aOff, 1, lda, b, bOff + full, n, c, cOff + full, n, m, n - full, k, accumulate);
        }
    }

    /** Each thread's copy of B's panels, for {@link #gemmAtB(float[], int, int, float[], int, float[], int, int, int, int, boolean, long)}. */
    private static final ThreadLocal<SharedCopy> SHARED_PANELS = ThreadLocal.withInitial(SharedCopy::new);

    /**
     * Columns {@code [0, full)} of B (k rows, ldb apart) in panels of {@link #PANEL_WIDTH}, panel j
     * from {@code O + j·k}: copied by this thread's first call with {@code token}, reused by its next.
     */
    private static float[] sharedPanels(float[] b, int bOff, int ldb, int k, int full, long token) {
        SharedCopy copy = SHARED_PANELS.get();
        if (copy.holds(token, bOff, k, full)) {
            return copy.values;
        }
        return packPanels(b, bOff, ldb, k, full, copy.reserve(k * full, token, bOff, k, full));
    }

    /** Columns {@code [0, full)} of B (k rows, ldb apart) to {@code panels}, panel j of {@link #PANEL_WIDTH} from {@code O + j·k}; returns panels. */
    private static float[] packPanels(float[] b, int bOff, int ldb, int k, int full, float[] panels) {
        for (int j = 0; j < full; j += PANEL_WIDTH) {
            packPanel(b, bOff + j, ldb, k, PANEL_WIDTH, panels, O + j * k);
        }
        return panels;
    }

    /**
     * {@code C[m×n] (+)= Σ_p A(i, p) · B[p, :]} where {@code A(i, p) = a[aOff + i·rowStride + p·pStride]}:
     * with strides (k, 1) that is A·B, with (1, lda) it is Aᵀ·B. B is row-major ({@code ldb} apart)
     * or, with {@code bPanels}, already in the panels of {@link #gemmPackedBias}. Columns go in
     * panels of {@link #panelWidth()} and rows in packed blocks ({@link #packedBlock}) where enough
     * rows reuse a copied panel (on AVX-512 only where {@link #widePacks}); the rest in {@link #stridedGemm}.
     */
    private static void broadcastGemm(float[] a, int aOff, int rowStride, int pStride, float[] b, int bOff, int ldb,
                                      boolean bPanels, float[] c, int cOff, int ldc, int m, int n, int k,
                                      boolean accumulate) {
        broadcastGemm(a, aOff, rowStride, pStride, b, bOff, ldb, bPanels, c, cOff, ldc, m, n, k, accumulate, null, 0);
    }

    /** As above, with A's blocks of rows already copied to {@code aBlocks} from {@code aBlocks0} when not null. */
    private static void broadcastGemm(float[] a, int aOff, int rowStride, int pStride, float[] b, int bOff, int ldb,
                                      boolean bPanels, float[] c, int cOff, int ldc, int m, int n, int k,
                                      boolean accumulate, float[] aBlocks, int aBlocks0) {
        int slice = sliceRows(rowStride, m, n, k);
        if (m > slice) {
            for (int i = 0; i < m; i += slice) {
                broadcastGemm(a, aOff + i * rowStride, rowStride, pStride, b, bOff, ldb, bPanels, c, cOff + i * ldc,
                        ldc, Math.min(slice, m - i), n, k, accumulate, aBlocks, aBlocks0 + i * k);
            }
            return;
        }
        int width = PANEL_WIDTH;
        int full = n / width * width;
        // the columns past the last full panel: a narrower panel stored full·k into a packed B (rows
        // n − full apart), or B in place
        int restB = bPanels ? bOff + full * k : bOff + full;
        int restLd = bPanels ? n - full : ldb;
        boolean packsA = m >= ROW_BLOCK && (bPanels || m >= PACK_MIN_ROWS) && (!WIDE || widePacks(rowStride, m, full, k));
        int done = 0;
        if (full > 0 && !bPanels && packsA && k <= ROWS_OUTER_MAX_K && k * full <= ROWS_OUTER_FLOATS) {
            float[] panels = packPanels(b, bOff, ldb, k, full, panelScratch(k * full));
            rowsOuter(a, aOff, rowStride, pStride, panels, O, c, cOff, ldc, m, full, k, accumulate);
            done = full;
        } else if (full > 0 && (bPanels || packsA)) {
            int blocks = packsA || aBlocks != null ? m / ROW_BLOCK : 0;
            float[] rowBlocks = aBlocks != null || blocks == 0 ? aBlocks : packRowBlocks(a, aOff, rowStride, pStride, blocks, k);
            int rb0 = aBlocks != null ? aBlocks0 : O;
            float[] panel = bPanels ? null : panelScratch(k * PANEL_WIDTH);
            for (int j = 0; j < full; j += width) {
                float[] pb = b;
                int pb0 = bOff + j * k;
                if (!bPanels) {
                    packPanel(b, bOff + j, ldb, k, width, panel, O);
                    pb = panel;
                    pb0 = O;
                }
                int i = 0;
                for (int t = 0; t < blocks; t++, i += ROW_BLOCK) {
                    packedBlock(rowBlocks, rb0 + t * ROW_BLOCK * k, pb, pb0, c, cOff + i * ldc + j, ldc, k, accumulate);
                }
                if (i < m) {
                    stridedGemm(a, aOff + i * rowStride, rowStride, pStride, pb, pb0, width, c, cOff + i * ldc + j,
                            ldc, m - i, width, k, accumulate);
                }
            }
            done = full;
            int tail = WIDE && blocks > 0 ? (n - full) / L * L : 0; // without AVX-512 784 columns are whole panels
            if (tail > 0) {
                packedTail(a, aOff, rowStride, pStride, rowBlocks, rb0, blocks, b, restB, restLd, c, cOff + full, ldc, m,
                        tail, k, accumulate);
                done = full + tail;
            }
        }
        if (done < n) {
            // what is left of those columns (from done: 0, full, or past the tail's vectors), or all of B
            stridedGemm(a, aOff, rowStride, pStride, b, restB + done - full, restLd, c, cOff + done, ldc, m, n - done, k,
                    accumulate);
        }
    }

    /**
     * The whole vectors of the columns past the last full panel ({@code cols}, a multiple of the
     * vector length; B's rows {@code ldb} apart from {@code b0}) for A's blocks of six rows
     * (AVX-512) already copied to {@code rowBlocks}: a block of rows by one vector at a time, the
     * rows past the blocks in {@link #stridedGemm}. Read in place there, an A stored transposed
     * would be copied to rows again, all of it, for a few columns (the 16 of 784 past 12 panels of 64 on AVX-512: a whole
     * layer's weight gradient at 128 rows ran 7 % slower for 784 columns than for 768).
     */
    private static void packedTail(float[] a, int aOff, int rowStride, int pStride, float[] rowBlocks, int rb0,
                                   int blocks, float[] b, int b0, int ldb, float[] c, int cOff, int ldc, int m,
                                   int cols, int k, boolean accumulate) {
        for (int v = 0; v < cols; v += L) {
            for (int t = 0; t < blocks; t++) {
                packed6x1(rowBlocks, rb0 + t * ROW_BLOCK * k, b, b0 + v, ldb, c, cOff + t * ROW_BLOCK * ldc + v, ldc, k,
                        accumulate);
            }
        }
        int i = blocks * ROW_BLOCK;
        if (i < m) {
            stridedGemm(a, aOff + i * rowStride, rowStride, pStride, b, b0, ldb, c, cOff + i * ldc, ldc, m - i, cols, k,
                    accumulate);
        }
    }

    /**
     * The longest k for {@link #rowsOuter}: at 64 and 128 a tile's FMAs hide C's latency and the
     * panels read from L2 instead of L1 cost as much as it saves (harness, Zen 3: dw2 at 128 rows
     * 80 → 76-79 GFLOP/s, at 64 within the noise).
     */
    private static final int ROWS_OUTER_MAX_K = 32;

    /**
     * The most floats of B copied whole for {@link #rowsOuter}: 256 KB, half of Zen 3's L2, with room
     * for A's blocks and C's rows.
     */
    private static final int ROWS_OUTER_FLOATS = 64 * 1024;

    /**
     * {@link #broadcastGemm}'s packed blocks for a short k and a B small enough to copy whole (the
     * weight gradients of shards of up to 32 rows): every panel of B copied first (by the caller,
     * panel j from {@code j·k} in {@code panels}), then the blocks
     * of four rows outer and the panels inner, so that the 4 × 2-vector tiles of C go along C's
     * rows, which the prefetcher follows, instead of down a column of tiles, where each tile's four
     * lines come from L3 at C's row stride and 32 steps of FMAs do not hide them (harness, Zen 3,
     * best of 3 one-second runs, twice: dw1 at 32 rows 64-65 → 73-75 GFLOP/s, dw2 64 → 72-74). The
     * trainer's blocks of at most 128 units keep their C in L2 and gain little (batch 32, one
     * thread +1-3 %, two threads unchanged); a whole layer's product, as the kernels' benchmark
     * takes it, gains the most. The same FMA chain per element.
     */
    private static void rowsOuter(float[] a, int aOff, int rowStride, int pStride, float[] panels, int panels0,
                                  float[] c, int cOff, int ldc, int m, int full, int k, boolean accumulate) {
        int width = PANEL_WIDTH;
        int blocks = m / ROW_BLOCK;
        float[] rowBlocks = packRowBlocks(a, aOff, rowStride, pStride, blocks, k);
        for (int t = 0; t < blocks; t++) {
            for (int j = 0; j < full; j += width) {
                packedBlock(rowBlocks, O + t * ROW_BLOCK * k, panels, panels0 + j * k, c, cOff + t * ROW_BLOCK * ldc + j,
                        ldc, k, accumulate);
            }
        }
        int i = blocks * ROW_BLOCK;
        if (i < m) {
            for (int j = 0; j < full; j += width) {
                stridedGemm(a, aOff + i * rowStride, rowStride, pStride, panels, panels0 + j * k, width, c, cOff + i * ldc + j,
                        ldc, m - i, width, k, accumulate);
            }
        }
    }

    /**
     * The same product read in place: columns in panels of {@link #panelWidth()} (then of two
     * vectors, of one, and a scalar tail), rows in blocks of six and the rest in blocks of four, two
     * and one, each a register block. The register blocks step through A's row by one float a
     * step: an A stored transposed (Aᵀ·B: rows 1 apart, steps {@code pStride}) is first copied to
     * rows in {@link #ROWS_OF_A}. The block kernels are compiled on their own ({@code dontinline}),
     * so a stride passed to them stays a variable; with a constant one the JIT takes the six or
     * four bounds checks of A out of the loop, and the same register block runs 3-9 % faster, 30 %
     * in six-by-two blocks (harness, Zen 5, one JVM, both forms alternating). Paired one-epoch fits
     * (Zen 5): batch 128 on one thread +0.5 to +4.6 %, batch 32 on two +2.5 to +3.8 %, batch 128
     * on two −0.9 to +0.9 %.
     */
    private static void stridedGemm(float[] a, int aOff, int rowStride, int pStride, float[] b, int bOff, int ldb,
                                    float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate) {
        if (pStride != 1) {
            float[] rows = scratch(ROWS_OF_A, m * k);
            transpose(a, aOff, pStride, k, m, rows, O, k);
            a = rows;
            aOff = O;
            rowStride = k;
            pStride = 1;
        }
        int j = 0;
        // m = 6q + 2 goes as 6(q − 1) + 4 + 4: a pair of rows alone has too few accumulators to keep the
        // FMA units busy and runs at half the speed of a block of four (32-row blocks are 6·5 + 2)
        int sixes = m % 6 == 2 && m >= 8 ? m - 8 : m;
        boolean pack = packsPanels(m, ldb, PANEL_WIDTH, k);
        float[] panel = pack ? panelScratch(k * PANEL_WIDTH) : null;
        if (WIDE) {
            for (; j + 4 * L <= n; j += 4 * L) {
                float[] pb = b;
                int pb0 = bOff + j;
                int pld = ldb;
                if (pack) {
                    packPanel(b, bOff + j, ldb, k, 4 * L, panel, O);
                    pb = panel;
                    pb0 = O;
                    pld = 4 * L;
                }
                int i = 0;
                for (; i + 6 <= sixes; i += 6) {
                    block6x4(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
                }
                for (; i + 4 <= m; i += 4) {
                    block4x4(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
                }
                if (i + 2 <= m) {
                    block2x4(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
                    i += 2;
                }
                if (i < m) {
                    block1x4(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
                }
            }
        }
        for (; j + 2 * L <= n; j += 2 * L) {
            float[] pb = b;
            int pb0 = bOff + j;
            int pld = ldb;
            if (pack) {
                packPanel(b, bOff + j, ldb, k, 2 * L, panel, O);
                pb = panel;
                pb0 = O;
                pld = 2 * L;
            }
            int i = 0;
            for (; i + 6 <= sixes; i += 6) {
                block6x2(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
            for (; i + 4 <= m; i += 4) {
                block4x2(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
            if (i + 2 <= m) {
                block2x2(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
                i += 2;
            }
            if (i < m) {
                block1x2(a, aOff + i * rowStride, rowStride, pb, pb0, pld, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
        }
        if (j + L <= n) {
            int i = 0;
            for (; i + 6 <= m; i += 6) {
                block6x1(a, aOff + i * rowStride, rowStride, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
            for (; i < m; i++) {
                block1x1(a, aOff + i * rowStride, rowStride, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
            j += L;
        }
        // Fewer columns than a vector: scalar. (Masked vectors would be slower: near the end of an
        // array the API checks masked accesses lane by lane in Java, allocating as it goes.)
        for (; j < n; j++) {
            for (int i = 0; i < m; i++) {
                float sum = 0f;
                int ai = aOff + i * rowStride;
                for (int p = 0; p < k; p++) {
                    sum += a[ai + p * pStride] * b[bOff + p * ldb + j];
                }
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + sum : sum;
            }
        }
    }

    /**
     * B's rows a power of two floats apart (a layer of 256 or 512 units) fall into a few L1 sets and
     * evict each other, so a panel of B streams from L2 again for every block of rows of C; such a
     * panel is first copied to contiguous scratch when enough rows of C reuse it and the copy fits
     * in L1. Measured on Zen 5 (AVX-512), single thread, 256×512 by 128 rows: 149 → 173 GFLOP/s for
     * ∂W, and 155 → 172 for a 128-unit block of it. Rows 784 floats apart gain 5 %, which the copy
     * eats in training; at 10 rows (the output layer) the copy costs more than it saves, and so it
     * does for Δ·W of 32 rows through 256 units (a 64 KB panel: 162-179 → 148).
     */
    private static final int PACK_MIN_ROWS = 24;

    /** The largest copied panel: 32 KB, so that it stays in L1 (48 KB on Zen 4 and 5, 32 KB on Zen 2) beside A's rows. */
    private static final int PANEL_MAX_FLOATS = 8192;

    private static boolean packsPanels(int m, int ldb, int width, int k) {
        return m >= PACK_MIN_ROWS && ldb > width && ldb % 256 == 0 && k * width <= PANEL_MAX_FLOATS;
    }

    /** Each thread's copy of an A that {@link #stridedGemm} transposed, grown to the largest it has seen. */
    private static final ThreadLocal<float[][]> ROWS_OF_A = ThreadLocal.withInitial(() -> new float[1][0]);

    /** Each thread's panel scratch, grown to the largest k it has seen: a training step allocates nothing. */
    private static final ThreadLocal<float[][]> PANEL = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] panelScratch(int len) {
        return scratch(PANEL, len);
    }

    /**
     * This thread's array in {@code holder}, with room for {@code len} floats from {@link #O}, replaced
     * by a larger one when it has less.
     */
    private static float[] scratch(ThreadLocal<float[][]> holder, int len) {
        float[][] mine = holder.get();
        if (mine[0].length < O + len) {
            mine[0] = new float[O + len];
        }
        return mine[0];
    }

    /**
     * Copies columns {@code [0, width)} of B's k rows (at b0, ldb apart) to panel from {@code p0},
     * {@code width} apart; width is two or four vectors. Vector copies: a {@code System.arraycopy} of 16 floats
     * a row is a call, and took 7 % of a one-thread step on Zen 3 (JFR), mostly for dw.
     */
    private static void packPanel(float[] b, int b0, int ldb, int k, int width, float[] panel, int p0) {
        if (width == 2 * L) {
            for (int p = 0; p < k; p++) {
                int s = b0 + p * ldb;
                int d = p0 + p * 2 * L;
                FloatVector.fromArray(S, b, s).intoArray(panel, d);
                FloatVector.fromArray(S, b, s + L).intoArray(panel, d + L);
            }
            return;
        }
        for (int p = 0; p < k; p++) {
            int s = b0 + p * ldb;
            int d = p0 + p * width;
            for (int v = 0; v < width; v += L) {
                FloatVector.fromArray(S, b, s + v).intoArray(panel, d + v);
            }
        }
    }

    /**
     * Rows of C per block of {@link #packed4x2}. With A and B both packed the JIT drops the k loop's
     * bounds checks and then schedules its loads freely: six rows (12 accumulators) then need more than
     * AVX2's 16 registers and C2 spills an accumulator to the stack inside the loop, at 33-40 GFLOP/s
     * on Zen 3 (five rows spill too); four rows fit, at 65-80. The strided 6×2 block, whose bounds
     * checks keep its loads in order, runs at 41-57. Where WIDE, six rows of {@link #packed6x4}: 24
     * accumulators of AVX-512's 32 registers.
     */
    private static final int ROW_BLOCK = WIDE ? 6 : 4;

    /**
     * The most rows of A copied at once: a product of more goes by slices of this many rows, so that
     * the copy stays in L2 (128 rows of 784 floats: 400 KB) and the scratch stays small.
     */
    private static final int PACKED_ROWS_MAX = 128;

    /**
     * Where WIDE, whether {@link #broadcastGemm} copies A to blocks for {@link #packed6x4}: for Aᵀ·B
     * (rows of A 1 apart), whose A {@link #stridedGemm} would copy anyway, a whole layer's product
     * (256 rows or more: a weight gradient all at once), at least four panels of B and k past
     * {@link #ROWS_OUTER_MAX_K}. Harness (Intel Xeon, 204 GFLOP/s peak), gemmAtB 512×784 by 128:
     * 147-150 → 165-166 GFLOP/s. Not for the trainer's blocks of 64-128 units, whose calls share one
     * copy of B's panels a step: the copy (400 KB of the first layer's input) cost what the blocks
     * saved, on two threads more (bp bench train --batch 128, 10 alternating pairs: 2 threads -2 %,
     * 1 thread 0 %). Not where A is row-major (the forward pass, Δ·W): with a scalar interleave of
     * six rows predictions of 1000 rows lost 5 %, and with one in vectors (36 permutes and 30 blends
     * a 6×16 block) the per-thread copy of the layer's input cost what the faster block saved
     * (alternating pairs: 1 thread +1-2 %, 2 threads -2 %, predictions unchanged); nor at k = 32
     * (batch 32 on two threads -3 %); nor with two panels of B per copy (the first layer's forward
     * pass in place: 40 % slower).
     */
    private static boolean widePacks(int rowStride, int m, int full, int k) {
        return rowStride == 1 && m >= 256 && full >= 4 * PANEL_WIDTH && k > ROWS_OUTER_MAX_K;
    }

    /** The most floats of A copied at once where WIDE: {@link #PACKED_ROWS_MAX} rows of 784 (400 KB, in L2). */
    private static final int PACKED_FLOATS_MAX = PACKED_ROWS_MAX * 784;

    /**
     * Rows of A per slice of {@link #broadcastGemm}'s m×n product k deep: {@link #PACKED_ROWS_MAX}
     * without AVX-512; with it all m where A is read in place (nothing copied to bound), else as
     * many whole blocks as {@link #PACKED_FLOATS_MAX} holds, so that a short k (a weight gradient:
     * 512 rows by 128) goes in one slice and each panel of B is copied once, not once a slice.
     */
    private static int sliceRows(int rowStride, int m, int n, int k) {
        if (!WIDE) {
            return PACKED_ROWS_MAX;
        }
        if (!widePacks(rowStride, m, n / PANEL_WIDTH * PANEL_WIDTH, k)) {
            return m;
        }
        return Math.max(ROW_BLOCK, PACKED_FLOATS_MAX / k / ROW_BLOCK * ROW_BLOCK); // k > ROWS_OUTER_MAX_K here
    }

    /** Each thread's copy of A in blocks of {@link #ROW_BLOCK} rows, grown to the largest it has seen. */
    private static final ThreadLocal<float[][]> ROW_BLOCKS = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * Rows {@code [0, R·blocks)} of A (R = {@link #ROW_BLOCK}), with column p of a block's rows side
     * by side: {@code ap[O + R·k·t + R·p + r] = A(R·t + r, p)}. Each block of A is copied once and read
     * once per panel of B.
     */
    private static float[] packRowBlocks(float[] a, int aOff, int rs, int ps, int blocks, int k) {
        float[] rowBlocks = scratch(ROW_BLOCKS, blocks * ROW_BLOCK * k);
        packRowBlocks(a, aOff, rs, ps, blocks, k, rowBlocks, O);
        return rowBlocks;
    }

    /** As above, into {@code ap} from {@code ap0}. */
    private static void packRowBlocks(float[] a, int aOff, int rs, int ps, int blocks, int k, float[] ap, int ap0) {
        if (rs == 1) {
            // Aᵀ·B: a block's elements of column p are adjacent, and column p is contiguous
            for (int p = 0; p < k; p++) {
                int s = aOff + p * ps;
                int d = ap0 + ROW_BLOCK * p;
                for (int t = 0; t < blocks; t++, s += ROW_BLOCK, d += ROW_BLOCK * k) {
                    for (int r = 0; r < ROW_BLOCK; r++) {
                        ap[d + r] = a[s + r];
                    }
                }
            }
        } else {
            // A·B: the block's rows are read side by side and the copy written in order
            for (int t = 0; t < blocks; t++) {
                int s = aOff + ROW_BLOCK * t * rs;
                int d = ap0 + ROW_BLOCK * k * t;
                int p = L == 8 && ps == 1 ? interleave4x8(a, s, rs, k, ap, d) : 0;
                for (d += ROW_BLOCK * p; p < k; p++, d += ROW_BLOCK) {
                    int sp = s + p * ps;
                    for (int r = 0; r < ROW_BLOCK; r++) {
                        ap[d + r] = a[sp + r * rs];
                    }
                }
            }
        }
    }

    /**
     * Lane {@code (i1 i0 p0) → (p0 i1 i0)}: after {@link #interleave4x8}'s two stages a vector holds
     * columns p and p + 1 of four rows, row-minor; this puts the four rows of column p first.
     */
    private static final VectorShuffle<Float> COLUMN_PAIRS = L == 8
            ? VectorShuffle.fromOp(S, n -> ((n >> 1) & 1) * 4 + (n & 1) * 2 + (n >> 2)) : null;

    /**
     * Copies columns {@code [0, 8·⌊k/8⌋)} of four rows of A (at s, rows {@code rs} apart) to
     * {@code ap[d + 4p + r]}, eight columns at a time in registers, for 256-bit vectors: a 4×8
     * transpose in two stages like {@link #transpose8}'s (row bit 1 with lane bit 2, row bit 0 with
     * lane bit 1), then one permutation a vector. 0.20 ns a float on Zen 3, against 0.49 for the
     * scalar copy (128×784, harness). Returns the first column not copied.
     */
    private static int interleave4x8(float[] a, int s, int rs, int k, float[] ap, int d) {
        int end = k / 8 * 8;
        for (int p = 0; p < end; p += 8, d += 32) {
            FloatVector r0 = FloatVector.fromArray(S, a, s + p);
            FloatVector r1 = FloatVector.fromArray(S, a, s + rs + p);
            FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * rs + p);
            FloatVector r3 = FloatVector.fromArray(S, a, s + 3 * rs + p);
            FloatVector x = r0.rearrange(SWAP4), y = r2.rearrange(SWAP4);
            r0 = r0.blend(y, BIT4);
            r2 = x.blend(r2, BIT4);
            x = r1.rearrange(SWAP4);
            y = r3.rearrange(SWAP4);
            r1 = r1.blend(y, BIT4);
            r3 = x.blend(r3, BIT4);
            x = r0.rearrange(SWAP2);
            y = r1.rearrange(SWAP2);
            r0 = r0.blend(y, BIT2);
            r1 = x.blend(r1, BIT2);
            x = r2.rearrange(SWAP2);
            y = r3.rearrange(SWAP2);
            r2 = r2.blend(y, BIT2);
            r3 = x.blend(r3, BIT2);
            r0.rearrange(COLUMN_PAIRS).intoArray(ap, d);
            r1.rearrange(COLUMN_PAIRS).intoArray(ap, d + 8);
            r2.rearrange(COLUMN_PAIRS).intoArray(ap, d + 16);
            r3.rearrange(COLUMN_PAIRS).intoArray(ap, d + 24);
        }
        return end;
    }

    /** One block of {@link #ROW_BLOCK} rows of C by a panel of B, both packed: {@link #packed6x4} where WIDE, else {@link #packed4x2}. */
    private static void packedBlock(float[] ap, int a0, float[] b, int b0, float[] c, int c0, int ldc, int k,
                                    boolean accumulate) {
        if (WIDE) {
            packed6x4(ap, a0, b, b0, c, c0, ldc, k, accumulate);
        } else {
            packed4x2(ap, a0, b, b0, c, c0, ldc, k, accumulate);
        }
    }

    /**
     * Six rows of C by four vectors, from a block of {@link #packRowBlocks} and a panel of B four
     * vectors wide: {@link #block6x4}'s FMA chains with every load at an offset from one index that
     * steps by a constant, so that the k loop keeps no bounds checks, no multiply and no address
     * arithmetic per row of A, which {@link #block6x4} spends on its strides (with both copies in
     * place 170-179 GFLOP/s against 148-150 for the strided block, 6 × 4 blocks of a 510×768×128
     * product, harness, Intel Xeon with a 204 GFLOP/s peak).
     */
    private static void packed6x4(float[] ap, int a0, float[] b, int b0, float[] c, int c0, int ldc, int k,
                                  boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        FloatVector s40 = s00, s41 = s00, s42 = s00, s43 = s00, s50 = s00, s51 = s00, s52 = s00, s53 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * (4 * L);
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector y2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector y3 = FloatVector.fromArray(S, b, bp + 3 * L);
            int a = a0 + 6 * p;
            FloatVector x = FloatVector.broadcast(S, ap[a]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            s02 = x.fma(y2, s02);
            s03 = x.fma(y3, s03);
            x = FloatVector.broadcast(S, ap[a + 1]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            s12 = x.fma(y2, s12);
            s13 = x.fma(y3, s13);
            x = FloatVector.broadcast(S, ap[a + 2]);
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            s22 = x.fma(y2, s22);
            s23 = x.fma(y3, s23);
            x = FloatVector.broadcast(S, ap[a + 3]);
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
            s32 = x.fma(y2, s32);
            s33 = x.fma(y3, s33);
            x = FloatVector.broadcast(S, ap[a + 4]);
            s40 = x.fma(y0, s40);
            s41 = x.fma(y1, s41);
            s42 = x.fma(y2, s42);
            s43 = x.fma(y3, s43);
            x = FloatVector.broadcast(S, ap[a + 5]);
            s50 = x.fma(y0, s50);
            s51 = x.fma(y1, s51);
            s52 = x.fma(y2, s52);
            s53 = x.fma(y3, s53);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s02 = s02.add(FloatVector.fromArray(S, c, c0 + 2 * L));
            s03 = s03.add(FloatVector.fromArray(S, c, c0 + 3 * L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
            s12 = s12.add(FloatVector.fromArray(S, c, c0 + ldc + 2 * L));
            s13 = s13.add(FloatVector.fromArray(S, c, c0 + ldc + 3 * L));
            s20 = s20.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s21 = s21.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + L));
            s22 = s22.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + 2 * L));
            s23 = s23.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + 3 * L));
            s30 = s30.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s31 = s31.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + L));
            s32 = s32.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + 2 * L));
            s33 = s33.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + 3 * L));
            s40 = s40.add(FloatVector.fromArray(S, c, c0 + 4 * ldc));
            s41 = s41.add(FloatVector.fromArray(S, c, c0 + 4 * ldc + L));
            s42 = s42.add(FloatVector.fromArray(S, c, c0 + 4 * ldc + 2 * L));
            s43 = s43.add(FloatVector.fromArray(S, c, c0 + 4 * ldc + 3 * L));
            s50 = s50.add(FloatVector.fromArray(S, c, c0 + 5 * ldc));
            s51 = s51.add(FloatVector.fromArray(S, c, c0 + 5 * ldc + L));
            s52 = s52.add(FloatVector.fromArray(S, c, c0 + 5 * ldc + 2 * L));
            s53 = s53.add(FloatVector.fromArray(S, c, c0 + 5 * ldc + 3 * L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s03.intoArray(c, c0 + 3 * L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
        s12.intoArray(c, c0 + ldc + 2 * L);
        s13.intoArray(c, c0 + ldc + 3 * L);
        s20.intoArray(c, c0 + 2 * ldc);
        s21.intoArray(c, c0 + 2 * ldc + L);
        s22.intoArray(c, c0 + 2 * ldc + 2 * L);
        s23.intoArray(c, c0 + 2 * ldc + 3 * L);
        s30.intoArray(c, c0 + 3 * ldc);
        s31.intoArray(c, c0 + 3 * ldc + L);
        s32.intoArray(c, c0 + 3 * ldc + 2 * L);
        s33.intoArray(c, c0 + 3 * ldc + 3 * L);
        s40.intoArray(c, c0 + 4 * ldc);
        s41.intoArray(c, c0 + 4 * ldc + L);
        s42.intoArray(c, c0 + 4 * ldc + 2 * L);
        s43.intoArray(c, c0 + 4 * ldc + 3 * L);
        s50.intoArray(c, c0 + 5 * ldc);
        s51.intoArray(c, c0 + 5 * ldc + L);
        s52.intoArray(c, c0 + 5 * ldc + 2 * L);
        s53.intoArray(c, c0 + 5 * ldc + 3 * L);
    }

    /** Six rows of C by one vector, from a block of {@link #packRowBlocks} and B's rows {@code ldb} apart: {@link #packedTail}'s block. */
    private static void packed6x1(float[] ap, int a0, float[] b, int b0, int ldb, float[] c, int c0, int ldc, int k,
                                  boolean accumulate) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
        for (int p = 0; p < k; p++) {
            FloatVector y = FloatVector.fromArray(S, b, b0 + p * ldb);
            int a = a0 + 6 * p;
            s0 = FloatVector.broadcast(S, ap[a]).fma(y, s0);
            s1 = FloatVector.broadcast(S, ap[a + 1]).fma(y, s1);
            s2 = FloatVector.broadcast(S, ap[a + 2]).fma(y, s2);
            s3 = FloatVector.broadcast(S, ap[a + 3]).fma(y, s3);
            s4 = FloatVector.broadcast(S, ap[a + 4]).fma(y, s4);
            s5 = FloatVector.broadcast(S, ap[a + 5]).fma(y, s5);
        }
        if (accumulate) {
            s0 = s0.add(FloatVector.fromArray(S, c, c0));
            s1 = s1.add(FloatVector.fromArray(S, c, c0 + ldc));
            s2 = s2.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s3 = s3.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s4 = s4.add(FloatVector.fromArray(S, c, c0 + 4 * ldc));
            s5 = s5.add(FloatVector.fromArray(S, c, c0 + 5 * ldc));
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + ldc);
        s2.intoArray(c, c0 + 2 * ldc);
        s3.intoArray(c, c0 + 3 * ldc);
        s4.intoArray(c, c0 + 4 * ldc);
        s5.intoArray(c, c0 + 5 * ldc);
    }

    /**
     * Four rows of C by two vectors, from a block of {@link #packRowBlocks} and a panel of B two
     * vectors wide, both at strides the JIT knows, so the k loop has no bounds checks: the same FMA
     * chains as {@link #block4x2}.
     */
    private static void packed4x2(float[] ap, int a0, float[] b, int b0, float[] c, int c0, int ldc, int k,
                                  boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (int p = 0; p < k; p++) {
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + p * (2 * L));
            FloatVector y1 = FloatVector.fromArray(S, b, b0 + p * (2 * L) + L);
            FloatVector x = FloatVector.broadcast(S, ap[a0 + 4 * p]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            x = FloatVector.broadcast(S, ap[a0 + 4 * p + 1]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            x = FloatVector.broadcast(S, ap[a0 + 4 * p + 2]);
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            x = FloatVector.broadcast(S, ap[a0 + 4 * p + 3]);
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
            s20 = s20.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s21 = s21.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + L));
            s30 = s30.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s31 = s31.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
        s20.intoArray(c, c0 + 2 * ldc);
        s21.intoArray(c, c0 + 2 * ldc + L);
        s30.intoArray(c, c0 + 3 * ldc);
        s31.intoArray(c, c0 + 3 * ldc + L);
    }

    // ---- register blocks: R rows of C by V vectors, generated in one pattern --------------------------
    //
    // Each step loads V vectors of B's row p and broadcasts R elements of A (column p of the R rows),
    // feeding R×V accumulators that stay in registers for the whole k loop. Every element of C is
    // the same FMA chain from zero over p, then (+ C) — whatever the block shape, so a product cut
    // into blocks anywhere gives the same bits as the whole.

    private static void block6x4(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        FloatVector s40 = s00, s41 = s00, s42 = s00, s43 = s00, s50 = s00, s51 = s00, s52 = s00, s53 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector y2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector y3 = FloatVector.fromArray(S, b, bp + 3 * L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            s02 = x.fma(y2, s02);
            s03 = x.fma(y3, s03);
            x = FloatVector.broadcast(S, a[ap + rs]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            s12 = x.fma(y2, s12);
            s13 = x.fma(y3, s13);
            x = FloatVector.broadcast(S, a[ap + 2 * rs]);
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            s22 = x.fma(y2, s22);
            s23 = x.fma(y3, s23);
            x = FloatVector.broadcast(S, a[ap + 3 * rs]);
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
            s32 = x.fma(y2, s32);
            s33 = x.fma(y3, s33);
            x = FloatVector.broadcast(S, a[ap + 4 * rs]);
            s40 = x.fma(y0, s40);
            s41 = x.fma(y1, s41);
            s42 = x.fma(y2, s42);
            s43 = x.fma(y3, s43);
            x = FloatVector.broadcast(S, a[ap + 5 * rs]);
            s50 = x.fma(y0, s50);
            s51 = x.fma(y1, s51);
            s52 = x.fma(y2, s52);
            s53 = x.fma(y3, s53);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s02 = s02.add(FloatVector.fromArray(S, c, c0 + 2 * L));
            s03 = s03.add(FloatVector.fromArray(S, c, c0 + 3 * L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
            s12 = s12.add(FloatVector.fromArray(S, c, c0 + ldc + 2 * L));
            s13 = s13.add(FloatVector.fromArray(S, c, c0 + ldc + 3 * L));
            s20 = s20.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s21 = s21.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + L));
            s22 = s22.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + 2 * L));
            s23 = s23.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + 3 * L));
            s30 = s30.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s31 = s31.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + L));
            s32 = s32.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + 2 * L));
            s33 = s33.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + 3 * L));
            s40 = s40.add(FloatVector.fromArray(S, c, c0 + 4 * ldc));
            s41 = s41.add(FloatVector.fromArray(S, c, c0 + 4 * ldc + L));
            s42 = s42.add(FloatVector.fromArray(S, c, c0 + 4 * ldc + 2 * L));
            s43 = s43.add(FloatVector.fromArray(S, c, c0 + 4 * ldc + 3 * L));
            s50 = s50.add(FloatVector.fromArray(S, c, c0 + 5 * ldc));
            s51 = s51.add(FloatVector.fromArray(S, c, c0 + 5 * ldc + L));
            s52 = s52.add(FloatVector.fromArray(S, c, c0 + 5 * ldc + 2 * L));
            s53 = s53.add(FloatVector.fromArray(S, c, c0 + 5 * ldc + 3 * L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s03.intoArray(c, c0 + 3 * L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
        s12.intoArray(c, c0 + ldc + 2 * L);
        s13.intoArray(c, c0 + ldc + 3 * L);
        s20.intoArray(c, c0 + 2 * ldc);
        s21.intoArray(c, c0 + 2 * ldc + L);
        s22.intoArray(c, c0 + 2 * ldc + 2 * L);
        s23.intoArray(c, c0 + 2 * ldc + 3 * L);
        s30.intoArray(c, c0 + 3 * ldc);
        s31.intoArray(c, c0 + 3 * ldc + L);
        s32.intoArray(c, c0 + 3 * ldc + 2 * L);
        s33.intoArray(c, c0 + 3 * ldc + 3 * L);
        s40.intoArray(c, c0 + 4 * ldc);
        s41.intoArray(c, c0 + 4 * ldc + L);
        s42.intoArray(c, c0 + 4 * ldc + 2 * L);
        s43.intoArray(c, c0 + 4 * ldc + 3 * L);
        s50.intoArray(c, c0 + 5 * ldc);
        s51.intoArray(c, c0 + 5 * ldc + L);
        s52.intoArray(c, c0 + 5 * ldc + 2 * L);
        s53.intoArray(c, c0 + 5 * ldc + 3 * L);
    }

    private static void block4x4(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector y2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector y3 = FloatVector.fromArray(S, b, bp + 3 * L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            s02 = x.fma(y2, s02);
            s03 = x.fma(y3, s03);
            x = FloatVector.broadcast(S, a[ap + rs]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            s12 = x.fma(y2, s12);
            s13 = x.fma(y3, s13);
            x = FloatVector.broadcast(S, a[ap + 2 * rs]);
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            s22 = x.fma(y2, s22);
            s23 = x.fma(y3, s23);
            x = FloatVector.broadcast(S, a[ap + 3 * rs]);
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
            s32 = x.fma(y2, s32);
            s33 = x.fma(y3, s33);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s02 = s02.add(FloatVector.fromArray(S, c, c0 + 2 * L));
            s03 = s03.add(FloatVector.fromArray(S, c, c0 + 3 * L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
            s12 = s12.add(FloatVector.fromArray(S, c, c0 + ldc + 2 * L));
            s13 = s13.add(FloatVector.fromArray(S, c, c0 + ldc + 3 * L));
            s20 = s20.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s21 = s21.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + L));
            s22 = s22.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + 2 * L));
            s23 = s23.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + 3 * L));
            s30 = s30.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s31 = s31.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + L));
            s32 = s32.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + 2 * L));
            s33 = s33.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + 3 * L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s03.intoArray(c, c0 + 3 * L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
        s12.intoArray(c, c0 + ldc + 2 * L);
        s13.intoArray(c, c0 + ldc + 3 * L);
        s20.intoArray(c, c0 + 2 * ldc);
        s21.intoArray(c, c0 + 2 * ldc + L);
        s22.intoArray(c, c0 + 2 * ldc + 2 * L);
        s23.intoArray(c, c0 + 2 * ldc + 3 * L);
        s30.intoArray(c, c0 + 3 * ldc);
        s31.intoArray(c, c0 + 3 * ldc + L);
        s32.intoArray(c, c0 + 3 * ldc + 2 * L);
        s33.intoArray(c, c0 + 3 * ldc + 3 * L);
    }

    private static void block2x4(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector y2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector y3 = FloatVector.fromArray(S, b, bp + 3 * L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            s02 = x.fma(y2, s02);
            s03 = x.fma(y3, s03);
            x = FloatVector.broadcast(S, a[ap + rs]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            s12 = x.fma(y2, s12);
            s13 = x.fma(y3, s13);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s02 = s02.add(FloatVector.fromArray(S, c, c0 + 2 * L));
            s03 = s03.add(FloatVector.fromArray(S, c, c0 + 3 * L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
            s12 = s12.add(FloatVector.fromArray(S, c, c0 + ldc + 2 * L));
            s13 = s13.add(FloatVector.fromArray(S, c, c0 + ldc + 3 * L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s03.intoArray(c, c0 + 3 * L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
        s12.intoArray(c, c0 + ldc + 2 * L);
        s13.intoArray(c, c0 + ldc + 3 * L);
    }

    private static void block1x4(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector y2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector y3 = FloatVector.fromArray(S, b, bp + 3 * L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            s02 = x.fma(y2, s02);
            s03 = x.fma(y3, s03);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s02 = s02.add(FloatVector.fromArray(S, c, c0 + 2 * L));
            s03 = s03.add(FloatVector.fromArray(S, c, c0 + 3 * L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s03.intoArray(c, c0 + 3 * L);
    }

    private static void block6x2(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        FloatVector s40 = s00, s41 = s00, s50 = s00, s51 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            x = FloatVector.broadcast(S, a[ap + rs]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            x = FloatVector.broadcast(S, a[ap + 2 * rs]);
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            x = FloatVector.broadcast(S, a[ap + 3 * rs]);
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
            x = FloatVector.broadcast(S, a[ap + 4 * rs]);
            s40 = x.fma(y0, s40);
            s41 = x.fma(y1, s41);
            x = FloatVector.broadcast(S, a[ap + 5 * rs]);
            s50 = x.fma(y0, s50);
            s51 = x.fma(y1, s51);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
            s20 = s20.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s21 = s21.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + L));
            s30 = s30.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s31 = s31.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + L));
            s40 = s40.add(FloatVector.fromArray(S, c, c0 + 4 * ldc));
            s41 = s41.add(FloatVector.fromArray(S, c, c0 + 4 * ldc + L));
            s50 = s50.add(FloatVector.fromArray(S, c, c0 + 5 * ldc));
            s51 = s51.add(FloatVector.fromArray(S, c, c0 + 5 * ldc + L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
        s20.intoArray(c, c0 + 2 * ldc);
        s21.intoArray(c, c0 + 2 * ldc + L);
        s30.intoArray(c, c0 + 3 * ldc);
        s31.intoArray(c, c0 + 3 * ldc + L);
        s40.intoArray(c, c0 + 4 * ldc);
        s41.intoArray(c, c0 + 4 * ldc + L);
        s50.intoArray(c, c0 + 5 * ldc);
        s51.intoArray(c, c0 + 5 * ldc + L);
    }

    private static void block4x2(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            x = FloatVector.broadcast(S, a[ap + rs]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            x = FloatVector.broadcast(S, a[ap + 2 * rs]);
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            x = FloatVector.broadcast(S, a[ap + 3 * rs]);
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
            s20 = s20.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s21 = s21.add(FloatVector.fromArray(S, c, c0 + 2 * ldc + L));
            s30 = s30.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s31 = s31.add(FloatVector.fromArray(S, c, c0 + 3 * ldc + L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
        s20.intoArray(c, c0 + 2 * ldc);
        s21.intoArray(c, c0 + 2 * ldc + L);
        s30.intoArray(c, c0 + 3 * ldc);
        s31.intoArray(c, c0 + 3 * ldc + L);
    }

    private static void block2x2(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s10 = s00, s11 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            x = FloatVector.broadcast(S, a[ap + rs]);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s11 = s11.add(FloatVector.fromArray(S, c, c0 + ldc + L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c0 + ldc);
        s11.intoArray(c, c0 + ldc + L);
    }

    private static void block1x2(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            FloatVector y1 = FloatVector.fromArray(S, b, bp + L);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s01 = s01.add(FloatVector.fromArray(S, c, c0 + L));
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
    }

    private static void block6x1(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S), s10 = s00, s20 = s00, s30 = s00, s40 = s00, s50 = s00;
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
            x = FloatVector.broadcast(S, a[ap + rs]);
            s10 = x.fma(y0, s10);
            x = FloatVector.broadcast(S, a[ap + 2 * rs]);
            s20 = x.fma(y0, s20);
            x = FloatVector.broadcast(S, a[ap + 3 * rs]);
            s30 = x.fma(y0, s30);
            x = FloatVector.broadcast(S, a[ap + 4 * rs]);
            s40 = x.fma(y0, s40);
            x = FloatVector.broadcast(S, a[ap + 5 * rs]);
            s50 = x.fma(y0, s50);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
            s10 = s10.add(FloatVector.fromArray(S, c, c0 + ldc));
            s20 = s20.add(FloatVector.fromArray(S, c, c0 + 2 * ldc));
            s30 = s30.add(FloatVector.fromArray(S, c, c0 + 3 * ldc));
            s40 = s40.add(FloatVector.fromArray(S, c, c0 + 4 * ldc));
            s50 = s50.add(FloatVector.fromArray(S, c, c0 + 5 * ldc));
        }
        s00.intoArray(c, c0);
        s10.intoArray(c, c0 + ldc);
        s20.intoArray(c, c0 + 2 * ldc);
        s30.intoArray(c, c0 + 3 * ldc);
        s40.intoArray(c, c0 + 4 * ldc);
        s50.intoArray(c, c0 + 5 * ldc);
    }

    private static void block1x1(float[] a, int a0, int rs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(S);
        for (int p = 0; p < k; p++) {
            int bp = b0 + p * ldb;
            FloatVector y0 = FloatVector.fromArray(S, b, bp);
            int ap = a0 + p;
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            s00 = x.fma(y0, s00);
        }
        if (accumulate) {
            s00 = s00.add(FloatVector.fromArray(S, c, c0));
        }
        s00.intoArray(c, c0);
    }

    // ---- deterministic building blocks -------------------------------------------------------------

    /**
     * One lane of {@link #expInPlace}, operation for operation (each exactly rounded), for the tails
     * shorter than a vector: a value gets the same bits whether it falls in a vector or in the tail,
     * so a row's outputs never depend on where the row sits in a batch.
     */
    private static float expLane(float input) {
        float x = Math.min(Math.max(input, -87f), 88f);
        float y = Math.fma(x, 1.44269504088896341f, 0.5f);
        float n = (float) (int) y;
        if (n > y) {
            n -= 1f;
        }
        float r = Math.fma(n, -0.693359375f, x);
        r = Math.fma(n, 2.12194440e-4f, r);
        float p = 1.9875691500E-4f;
        p = Math.fma(p, r, 1.3981999507E-3f);
        p = Math.fma(p, r, 8.3334519073E-3f);
        p = Math.fma(p, r, 4.1665795894E-2f);
        p = Math.fma(p, r, 1.6666665459E-1f);
        p = Math.fma(p, r, 5.0000001201E-1f);
        float e = Math.fma(p, r * r, r) + 1f;
        float twoToN = Float.intBitsToFloat(((int) (n + 127f)) << 23);
        return input < -87.33654f ? 0f : e * twoToN;
    }

    /** One lane of {@link #tanh}, as {@link #expLane} is of e^x. */
    private static float tanhLane(float x) {
        float ax = Math.abs(x);
        float e = expLane(ax + ax);
        float s = x * x;
        float p = -5.70498872745E-3f;
        p = Math.fma(p, s, 2.06390887954E-2f);
        p = Math.fma(p, s, -5.37397155531E-2f);
        p = Math.fma(p, s, 1.33314422036E-1f);
        p = Math.fma(p, s, -3.33332819422E-1f);
        float small = Math.fma(p * s, x, x);
        float large = 1f - 2f / (e + 1f);
        if (x < 0f) {
            large = -large;
        }
        return ax >= 0.625f ? large : small;
    }

    /**
     * {@code x[i] = e^x[i]} for {@code i in [off, off+len)}, len a multiple of the vector length.
     * Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r, then 2^n built
     * in the exponent bits. About 2 ulp for normal results; below e^-87.3 (the smallest normal float)
     * it gives 0, above 88 it gives e^88 ≈ 1.7e38, so 2^n always has a normal exponent. It works on
     * an array, not on a vector argument, so that no vector ever crosses a call (see the class comment).
     */
    private static void expInPlace(float[] v, int off, int len) {
        for (int i = off; i < off + len; i += L) {
            FloatVector input = FloatVector.fromArray(S, v, i);
            FloatVector x = input.max(-87f).min(88f);
            FloatVector y = x.fma(1.44269504088896341f, 0.5f);
            FloatVector n = y.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
            n = n.blend(n.sub(1f), n.compare(VectorOperators.GT, y)); // truncation → floor
            FloatVector r = n.fma(FloatVector.broadcast(S, -0.693359375f), x);
            r = n.fma(FloatVector.broadcast(S, 2.12194440e-4f), r);
            FloatVector p = FloatVector.broadcast(S, 1.9875691500E-4f);
            p = p.fma(r, FloatVector.broadcast(S, 1.3981999507E-3f));
            p = p.fma(r, FloatVector.broadcast(S, 8.3334519073E-3f));
            p = p.fma(r, FloatVector.broadcast(S, 4.1665795894E-2f));
            p = p.fma(r, FloatVector.broadcast(S, 1.6666665459E-1f));
            p = p.fma(r, FloatVector.broadcast(S, 5.0000001201E-1f));
            FloatVector e = p.fma(r.mul(r), r).add(1f);
            FloatVector twoToN = n.add(127f).convert(VectorOperators.F2I, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            e.mul(twoToN).blend(0f, input.compare(VectorOperators.LT, -87.33654f)).intoArray(v, i);
        }
    }

    // ---- reductions and elementwise ------------------------------------------------------------

    @Override
    public void columnSums(float[] a, int aOff, int lda, int m, int n, float[] y, int yOff, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(y, yOff, yOff + n, 0f);
        }
        for (int i = 0; i < m; i++) {
            add(a, aOff + i * lda, y, yOff, n);
        }
    }

    /** {@code y += x}. */
    private static void add(float[] x, int xOff, float[] y, int yOff, int len) {
        int bound = S.loopBound(len);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, y, yOff + i).add(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        }
        for (; i < len; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }

    /**
     * The activations with a vector kernel here; the others (softplus: the Vector API has no log
     * that is the same compiled and interpreted) run their scalar twins.
     */
    @Override
    public void activate(Elementwise f, float[] z, float[] out, int off, int len, float alpha) {
        switch (f) {
            case SIGMOID -> sigmoid(z, out, off, len);
            case TANH -> tanh(z, out, off, len);
            case RELU -> relu(z, out, off, len);
            case LEAKY_RELU -> leakyRelu(z, out, off, len, alpha);
            case ELU -> elu(z, out, off, len, alpha);
            default -> f.forward(z, out, off, len, alpha);
        }
    }

    @Override
    public void activateBackward(Elementwise f, float[] z, float[] a, float[] delta, int off, int len, float alpha) {
        switch (f) {
            case SIGMOID -> sigmoidBackward(a, delta, off, len);
            case TANH -> tanhBackward(a, delta, off, len);
            case RELU -> reluBackward(z, delta, off, len);
            case LEAKY_RELU -> leakyReluBackward(z, delta, off, len, alpha);
            case ELU -> eluBackward(z, a, delta, off, len, alpha);
            default -> f.backward(z, a, delta, off, len, alpha);
        }
    }

    private void sigmoid(float[] z, float[] out, int off, int len) {
        int vectorLen = S.loopBound(len);
        for (int i = off; i < off + vectorLen; i += L) {
            FloatVector.fromArray(S, z, i).neg().intoArray(out, i);
        }
        expInPlace(out, off, vectorLen);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int i = off; i < off + vectorLen; i += L) {
            one.div(FloatVector.fromArray(S, out, i).add(one)).intoArray(out, i);
        }
        for (int i = off + vectorLen; i < off + len; i++) {
            out[i] = 1f / (expLane(-z[i]) + 1f);
        }
    }

    /**
     * Cephes' tanhf: an odd polynomial below |x| = 0.625, where 1 − 2/(e^{2|x|} + 1) would lose
     * digits to cancellation, and that formula (with x's sign) above.
     */
    private void tanh(float[] z, float[] out, int off, int len) {
        int vectorLen = S.loopBound(len);
        for (int i = off; i < off + vectorLen; i += L) {
            FloatVector ax = FloatVector.fromArray(S, z, i).abs();
            ax.add(ax).intoArray(out, i);
        }
        expInPlace(out, off, vectorLen);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int i = off; i < off + vectorLen; i += L) {
            FloatVector x = FloatVector.fromArray(S, z, i);
            FloatVector s = x.mul(x);
            FloatVector p = FloatVector.broadcast(S, -5.70498872745E-3f);
            p = p.fma(s, FloatVector.broadcast(S, 2.06390887954E-2f));
            p = p.fma(s, FloatVector.broadcast(S, -5.37397155531E-2f));
            p = p.fma(s, FloatVector.broadcast(S, 1.33314422036E-1f));
            p = p.fma(s, FloatVector.broadcast(S, -3.33332819422E-1f));
            FloatVector small = p.mul(s).fma(x, x);
            FloatVector large = one.sub(FloatVector.broadcast(S, 2f).div(FloatVector.fromArray(S, out, i).add(one)));
            large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
            small.blend(large, x.abs().compare(VectorOperators.GE, 0.625f)).intoArray(out, i);
        }
        for (int i = off + vectorLen; i < off + len; i++) {
            out[i] = tanhLane(z[i]);
        }
    }

    private void relu(float[] z, float[] out, int off, int len) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, z, i).max(0f).intoArray(out, i);
        }
        Elementwise.RELU.forward(z, out, i, off + len - i, 0f);
    }

    private void leakyRelu(float[] z, float[] out, int off, int len, float alpha) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, z, i);
            v.blend(v.mul(alpha), v.compare(VectorOperators.LE, 0f)).intoArray(out, i);
        }
        Elementwise.LEAKY_RELU.forward(z, out, i, off + len - i, alpha);
    }

    /** The negative side is α·(e^z − 1) with e^z from {@link #expInPlace}; within a few ulps of expm1. */
    private void elu(float[] z, float[] out, int off, int len, float alpha) {
        int vectorLen = S.loopBound(len);
        for (int i = off; i < off + vectorLen; i += L) {
            FloatVector.fromArray(S, z, i).min(0f).intoArray(out, i);
        }
        expInPlace(out, off, vectorLen);
        for (int i = off; i < off + vectorLen; i += L) {
            FloatVector v = FloatVector.fromArray(S, z, i);
            FloatVector negative = FloatVector.fromArray(S, out, i).sub(1f).mul(alpha);
            v.blend(negative, v.compare(VectorOperators.LE, 0f)).intoArray(out, i);
        }
        for (int i = off + vectorLen; i < off + len; i++) {
            float v = z[i];
            out[i] = v <= 0f ? (expLane(Math.min(v, 0f)) - 1f) * alpha : v;
        }
    }

    @Override
    public void prelu(float[] z, float[] out, int off, int rows, int cols, float[] slope, int sOff) {
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            for (int j = 0; j < bound; j += L) {
                FloatVector v = FloatVector.fromArray(S, z, row + j);
                v.mul(FloatVector.fromArray(S, slope, sOff + j)).blend(v, v.compare(VectorOperators.GT, 0f))
                        .intoArray(out, row + j);
            }
            ScalarKernels.INSTANCE.prelu(z, out, row + bound, 1, cols - bound, slope, sOff + bound);
        }
    }

    @Override
    public void maxout(float[] z, float[] out, int origin, int row0, int rows, int units, int pieces) {
        int bound = S.loopBound(units);
        for (int r = row0; r < row0 + rows; r++) {
            int zRow = origin + r * units * pieces;
            int outRow = origin + r * units;
            for (int j = 0; j < bound; j += L) {
                FloatVector m = FloatVector.fromArray(S, z, zRow + j);
                for (int p = 1; p < pieces; p++) {
                    m = m.max(FloatVector.fromArray(S, z, zRow + p * units + j));
                }
                m.intoArray(out, outRow + j);
            }
            ScalarKernels.maxoutRow(z, zRow, out, outRow, bound, units, units, pieces);
        }
    }

    @Override
    public void softmaxRows(float[] z, float[] out, int off, int rows, int cols) {
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            int j = 0;
            if (bound > 0) {
                FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                for (; j < bound; j += L) {
                    vmax = vmax.max(FloatVector.fromArray(S, z, row + j));
                }
                max = vmax.reduceLanes(VectorOperators.MAX);
            }
            for (; j < cols; j++) {
                max = Math.max(max, z[row + j]);
            }
            float sum = 0f;
            j = 0;
            if (bound > 0) {
                for (; j < bound; j += L) {
                    FloatVector.fromArray(S, z, row + j).sub(max).intoArray(out, row + j);
                }
                expInPlace(out, row, bound);
                FloatVector vsum = FloatVector.zero(S);
                for (j = 0; j < bound; j += L) {
                    vsum = vsum.add(FloatVector.fromArray(S, out, row + j));
                }
                // The lanes' sum in a fixed tree order (see the class comment), written out here rather than
                // called: a helper taking a vector that the JIT does not inline gets the vector boxed.
                if (SWAP8 != null) {
                    vsum = vsum.add(vsum.rearrange(SWAP8));
                }
                if (SWAP4 != null) {
                    vsum = vsum.add(vsum.rearrange(SWAP4));
                }
                vsum = vsum.add(vsum.rearrange(SWAP2));
                vsum = vsum.add(vsum.rearrange(SWAP1));
                sum = vsum.lane(0);
            }
            for (; j < cols; j++) {
                float e = (float) Math.exp(z[row + j] - max);
                out[row + j] = e;
                sum += e;
            }
            scale(1f / sum, out, row, cols);
        }
    }

    private static void scale(float alpha, float[] x, int off, int len) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, x, i).mul(alpha).intoArray(x, i);
        }
        for (; i < off + len; i++) {
            x[i] *= alpha;
        }
    }

    private void sigmoidBackward(float[] a, float[] delta, int off, int len) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            FloatVector av = FloatVector.fromArray(S, a, i);
            FloatVector d = FloatVector.fromArray(S, delta, i);
            d.mul(av.mul(av.neg().add(1f))).intoArray(delta, i);
        }
        Elementwise.SIGMOID.backward(null, a, delta, i, off + len - i, 0f);
    }

    private void tanhBackward(float[] a, float[] delta, int off, int len) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            FloatVector av = FloatVector.fromArray(S, a, i);
            FloatVector d = FloatVector.fromArray(S, delta, i);
            d.mul(av.mul(av).neg().add(1f)).intoArray(delta, i);
        }
        Elementwise.TANH.backward(null, a, delta, i, off + len - i, 0f);
    }

    private void reluBackward(float[] z, float[] delta, int off, int len) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            VectorMask<Float> inactive = FloatVector.fromArray(S, z, i).compare(VectorOperators.LE, 0f);
            FloatVector.fromArray(S, delta, i).blend(0f, inactive).intoArray(delta, i);
        }
        Elementwise.RELU.backward(z, null, delta, i, off + len - i, 0f);
    }

    private void leakyReluBackward(float[] z, float[] delta, int off, int len, float alpha) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            VectorMask<Float> negative = FloatVector.fromArray(S, z, i).compare(VectorOperators.LE, 0f);
            FloatVector d = FloatVector.fromArray(S, delta, i);
            d.blend(d.mul(alpha), negative).intoArray(delta, i);
        }
        Elementwise.LEAKY_RELU.backward(z, null, delta, i, off + len - i, alpha);
    }

    private void eluBackward(float[] z, float[] a, float[] delta, int off, int len, float alpha) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            VectorMask<Float> negative = FloatVector.fromArray(S, z, i).compare(VectorOperators.LE, 0f);
            FloatVector d = FloatVector.fromArray(S, delta, i);
            d.blend(d.mul(FloatVector.fromArray(S, a, i).add(alpha)), negative).intoArray(delta, i);
        }
        Elementwise.ELU.backward(z, a, delta, i, off + len - i, alpha);
    }

    @Override
    public void preluBackward(float[] z, float[] delta, int off, int rows, int cols, float[] slope, int sOff,
                              float[] slopeGrad, int gOff, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(slopeGrad, gOff, gOff + cols, 0f);
        }
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            for (int j = 0; j < bound; j += L) {
                FloatVector v = FloatVector.fromArray(S, z, row + j);
                FloatVector d = FloatVector.fromArray(S, delta, row + j);
                VectorMask<Float> positive = v.compare(VectorOperators.GT, 0f);
                FloatVector.fromArray(S, slopeGrad, gOff + j).add(d.mul(v).blend(0f, positive))
                        .intoArray(slopeGrad, gOff + j);
                d.mul(FloatVector.fromArray(S, slope, sOff + j)).blend(d, positive).intoArray(delta, row + j);
            }
            ScalarKernels.INSTANCE.preluBackward(z, delta, row + bound, 1, cols - bound, slope, sOff + bound,
                    slopeGrad, gOff + bound, true);
        }
    }

    @Override
    public void maxoutBackward(float[] z, float[] a, float[] delta, float[] dz, int origin, int row0, int rows,
                               int units, int pieces) {
        int bound = S.loopBound(units);
        for (int r = row0; r < row0 + rows; r++) {
            int zRow = origin + r * units * pieces;
            int aRow = origin + r * units;
            for (int j = 0; j < bound; j += L) {
                FloatVector max = FloatVector.fromArray(S, a, aRow + j);
                FloatVector d = FloatVector.fromArray(S, delta, aRow + j);
                VectorMask<Float> routed = S.maskAll(false);
                for (int p = 0; p < pieces; p++) {
                    int i = zRow + p * units + j;
                    VectorMask<Float> winner = FloatVector.fromArray(S, z, i).compare(VectorOperators.EQ, max)
                            .andNot(routed);
                    d.blend(0f, winner.not()).intoArray(dz, i);
                    routed = routed.or(winner);
                }
            }
            ScalarKernels.maxoutBackwardRow(z, a, delta, dz, zRow, aRow, bound, units, units, pieces);
        }
    }

    @Override
    public void softmaxBackwardRows(float[] s, float[] g, int off, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            float gs = dot(g, row, s, row, cols);
            int bound = row + S.loopBound(cols);
            int j = row;
            for (; j < bound; j += L) {
                FloatVector gv = FloatVector.fromArray(S, g, j).sub(gs);
                gv.mul(FloatVector.fromArray(S, s, j)).intoArray(g, j);
            }
            for (; j < row + cols; j++) {
                g[j] = s[j] * (g[j] - gs);
            }
        }
    }

    // Optimizer steps use the scalar twins' exact operation order (no fused multiply-add), so both
    // give bit-identical parameters.

    @Override
    public void sgdStep(float[] p, int off, float[] g, int gOff, int len, float lr, float s, float l2) {
        int bound = S.loopBound(len);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector pv = FloatVector.fromArray(S, p, off + i);
            FloatVector d = FloatVector.fromArray(S, g, gOff + i).mul(s).add(pv.mul(l2));
            pv.sub(d.mul(lr)).intoArray(p, off + i);
        }
        ScalarKernels.INSTANCE.sgdStep(p, off + i, g, gOff + i, len - i, lr, s, l2);
    }

    @Override
    public void sgdOuterStep(float[] p, int pOff, float[] delta, int dOff, float[] x, int xOff, int m, int n,
                             float lr, float s, float l2) {
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        for (int j = 0; j < m; j++) {
            FloatVector d = FloatVector.broadcast(S, delta[dOff + j]);
            int row = pOff + j * n;
            int i = 0;
            for (; i < bound; i += L) {
                FloatVector g = d.fma(FloatVector.fromArray(S, x, xOff + i), zero); // as the GEMM's blocks: from zero
                FloatVector pv = FloatVector.fromArray(S, p, row + i);
                pv.sub(g.mul(s).add(pv.mul(l2)).mul(lr)).intoArray(p, row + i);
            }
            ScalarKernels.INSTANCE.sgdOuterStep(p, row + i, delta, dOff + j, x, xOff + i, 1, n - i, lr, s, l2);
        }
    }

    @Override
    public void momentumStep(float[] p, float[] v, int off, float[] g, int gOff, int len, float lr, float s, float l2,
                             float mu, boolean nesterov) {
        int bound = S.loopBound(len);
        int i = 0;
        for (; i < bound; i += L) {
            int pi = off + i;
            FloatVector pv = FloatVector.fromArray(S, p, pi);
            FloatVector d = FloatVector.fromArray(S, g, gOff + i).mul(s).add(pv.mul(l2));
            FloatVector vi = FloatVector.fromArray(S, v, pi).mul(mu).add(d);
            vi = vi.blend(0f, vi.abs().lt(Float.MIN_NORMAL)); // as ScalarKernels.flushSubnormal (a call would box)
            vi.intoArray(v, pi);
            FloatVector step = nesterov ? d.add(vi.mul(mu)) : vi;
            pv.sub(step.mul(lr)).intoArray(p, pi);
        }
        ScalarKernels.INSTANCE.momentumStep(p, v, off + i, g, gOff + i, len - i, lr, s, l2, mu, nesterov);
    }

    @Override
    public void adamStep(float[] p, float[] m, float[] v, int off, float[] g, int gOff, int len, float lr, float s,
                         float l2, float decoupledDecay, float beta1, float beta2, float eps, float c1, float c2) {
        float keep = 1f - lr * decoupledDecay;
        float oneMinusBeta1 = 1f - beta1;
        float oneMinusBeta2 = 1f - beta2;
        float tinyGradient = ScalarKernels.tinyForSquare(beta2);
        float tinyMoment = ScalarKernels.tinyForProduct(c1 * lr);
        int bound = S.loopBound(len);
        int i = 0;
        for (; i < bound; i += L) {
            int pi = off + i;
            FloatVector pv = FloatVector.fromArray(S, p, pi).mul(keep);
            FloatVector d = FloatVector.fromArray(S, g, gOff + i).mul(s).add(pv.mul(l2));
            FloatVector dv = d.blend(0f, d.abs().lt(tinyGradient));
            FloatVector mi = FloatVector.fromArray(S, m, pi).mul(beta1).add(d.mul(oneMinusBeta1));
            FloatVector vi = FloatVector.fromArray(S, v, pi).mul(beta2).add(dv.mul(dv).mul(oneMinusBeta2));
            mi = mi.blend(0f, mi.abs().lt(Float.MIN_NORMAL)); // as ScalarKernels.flushSubnormal
            vi = vi.blend(0f, vi.abs().lt(Float.MIN_NORMAL));
            mi.intoArray(m, pi);
            vi.intoArray(v, pi);
            FloatVector denom = vi.mul(c2).lanewise(VectorOperators.SQRT).add(eps);
            FloatVector mUsed = mi.blend(0f, mi.abs().lt(tinyMoment));
            pv.sub(mUsed.mul(c1).mul(lr).div(denom)).intoArray(p, pi);
        }
        ScalarKernels.INSTANCE.adamStep(p, m, v, off + i, g, gOff + i, len - i, lr, s, l2, decoupledDecay, beta1,
                beta2, eps, c1, c2);
    }

    @Override
    public void rmspropStep(float[] p, float[] r, int off, float[] g, int gOff, int len, float lr, float s, float l2,
                            float alpha, float eps) {
        float oneMinusAlpha = 1f - alpha;
        float tinyGradient = ScalarKernels.tinyForSquare(alpha);
        float tinyStep = ScalarKernels.tinyForProduct(lr);
        int bound = S.loopBound(len);
        int i = 0;
        for (; i < bound; i += L) {
            int pi = off + i;
            FloatVector pv = FloatVector.fromArray(S, p, pi);
            FloatVector d = FloatVector.fromArray(S, g, gOff + i).mul(s).add(pv.mul(l2));
            FloatVector dv = d.blend(0f, d.abs().lt(tinyGradient));
            FloatVector ri = FloatVector.fromArray(S, r, pi).mul(alpha).add(dv.mul(dv).mul(oneMinusAlpha));
            ri = ri.blend(0f, ri.abs().lt(Float.MIN_NORMAL)); // as ScalarKernels.flushSubnormal
            ri.intoArray(r, pi);
            FloatVector dUsed = d.blend(0f, d.abs().lt(tinyStep));
            pv.sub(dUsed.mul(lr).div(ri.lanewise(VectorOperators.SQRT).add(eps))).intoArray(p, pi);
        }
        ScalarKernels.INSTANCE.rmspropStep(p, r, off + i, g, gOff + i, len - i, lr, s, l2, alpha, eps);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        int bound = S.loopBound(len);
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < len; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    @Override
    public void subtract(float[] a, float[] b, float[] out, int off, int len) {
        int bound = off + S.loopBound(len);
        int i = off;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, a, i).sub(FloatVector.fromArray(S, b, i)).intoArray(out, i);
        }
        ScalarKernels.INSTANCE.subtract(a, b, out, i, off + len - i);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        int bound = S.loopBound(len);
        int i = 0;
        float sum = 0f;
        if (bound > 0) {
            FloatVector s0 = FloatVector.zero(S);
            FloatVector s1 = s0;
            for (; i + L < bound; i += 2 * L) {
                s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
                s1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), s1);
            }
            for (; i < bound; i += L) {
                s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
            }
            FloatVector v = s0.add(s1);
            // The lanes' sum in a fixed tree order (see the class comment), written out here rather than
            // called: a helper taking a vector that the JIT does not inline gets the vector boxed.
            if (SWAP8 != null) {
                v = v.add(v.rearrange(SWAP8));
            }
            if (SWAP4 != null) {
                v = v.add(v.rearrange(SWAP4));
            }
            v = v.add(v.rearrange(SWAP2));
            v = v.add(v.rearrange(SWAP1));
            sum = v.lane(0);
        }
        for (; i < len; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }
}
