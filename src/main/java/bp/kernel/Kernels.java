package bp.kernel;

/**
 * Every numeric loop of the forward and backward passes. Matrices are row-major {@code float[]}
 * slices given by an array and an offset; the caller owns every buffer, so no kernel allocates.
 *
 * <p>Two implementations exist: {@link ScalarKernels}, plain Java that is always available and
 * serves as the test oracle, and {@code VectorKernels}, written with the Panama Vector API.
 * {@link #get()} returns the one chosen at start-up.
 */
public interface Kernels {

    /** The kernels chosen at start-up (see {@link KernelSelection}). */
    static Kernels get() {
        return KernelSelection.CHOSEN;
    }

    /** A short description for humans: implementation and vector shape. */
    String description();

    // ---- matrix products: the three shapes of training --------------------------------------

    /**
     * {@code C[m×n] = A[m×k] · B[n×k]ᵀ + bias[n]}, the forward pass {@code Z = A Wᵀ + b}.
     * The bias row is added to every row of C; pass {@code bias == null} for none.
     */
    void gemmABtBias(float[] a, int aOff, float[] b, int bOff, float[] bias, int biasOff,
                     float[] c, int cOff, int m, int n, int k);

    /**
     * {@code C[m×n] = A[m×k] · Wᵀ + bias[n]} with the weights W {@code [n×k]} given in packed form
     * (see {@link #packRows}): the forward pass {@code Z = A Wᵀ + b} in the form where every row of
     * A streams through contiguous vectors of a panel of W, without lane sums.
     */
    default void gemmPackedBias(float[] a, int aOff, float[] packed, int pOff, float[] bias, int biasOff,
                                float[] c, int cOff, int m, int n, int k) {
        gemmPackedBias(a, aOff, packed, pOff, bias, biasOff, c, cOff, n, m, n, k);
    }

    /**
     * As {@link #gemmPackedBias(float[], int, float[], int, float[], int, float[], int, int, int, int)}
     * with C's rows {@code ldc} apart: the units {@code [j0, j0 + n)} of a wider layer, given the
     * packed weights from unit j0 on (j0 a multiple of {@link #panelWidth()}).
     */
    void gemmPackedBias(float[] a, int aOff, float[] packed, int pOff, float[] bias, int biasOff,
                        float[] c, int cOff, int ldc, int m, int n, int k);

    /**
     * As {@link #gemmPackedBias(float[], int, float[], int, float[], int, float[], int, int, int, int, int)},
     * for one of several calls that read the same rows of A (blocks of units of one layer, in a
     * phase of the trainer): the kernels may copy A once per thread for all of them, where
     * each call would otherwise copy it again. Calls on one thread with the same {@code token}
     * may reuse that copy, so the caller takes a new one ({@link #newToken()}) for each A, and
     * again whenever A's values may have changed ({@link #NO_TOKEN}: nothing shared). The same
     * bits as without a token.
     */
    default void gemmPackedBias(float[] a, int aOff, float[] packed, int pOff, float[] bias, int biasOff,
                                float[] c, int cOff, int ldc, int m, int n, int k, long token) {
        gemmPackedBias(a, aOff, packed, pOff, bias, biasOff, c, cOff, ldc, m, n, k);
    }

    /**
     * {@code C[m×n] = A[m×k] · B[n×k]ᵀ + bias[n]} (C's rows {@code ldc} apart) with B, the weights,
     * read in place: the forward pass of a layer that has no packed copy, where the kernels {@link
     * #forwardReadsWeightsInPlace prefer that}, and there with the bits of {@link #gemmPackedBias}
     * (each element the same chain of products summed over p from zero, the bias added last). The
     * token shares A's copy between calls as {@code gemmPackedBias}' does.
     */
    void gemmABtBiasInPlace(float[] a, int aOff, float[] b, int bOff, float[] bias, int biasOff,
                            float[] c, int cOff, int ldc, int m, int n, int k, long token);

    /**
     * Whether the forward pass of a layer of n units whose packed copy serves nothing else (the
     * first layer: its input gradient is never computed) should read its weights in place
     * ({@link #gemmABtBiasInPlace}) rather than from a copy packed after every update, giving the
     * same bits: where the kernels read B in place anyway (AVX-512's register blocks) and n is
     * whole vectors.
     */
    boolean forwardReadsWeightsInPlace(int n);

    /**
     * Whether a prediction's forward pass through a layer of n units, where {@link
     * #transposedForwardPays} says it reads packed weights, should rather read them from a copy in
     * {@link #packWeightBlocks blocks of units} through {@link #gemmBlocksBias}: the same bits, from
     * a copy that only the weights' changes make stale (an inference copy, not the trainer's).
     */
    boolean weightBlocksPay(int n);

    /**
     * Copies the weights W {@code [n×k]} at {@code wOff} into the layout {@link #gemmBlocksBias}
     * reads, at most {@code n·k} floats from {@code blocksOff}: units in the blocks of the kernels'
     * register tiles, each block's weights of input p side by side.
     */
    void packWeightBlocks(float[] w, int wOff, int n, int k, float[] blocks, int blocksOff);

    /**
     * {@code C[m×n] = A[m×k] · Wᵀ + bias[n]} (C's rows {@code ldc} apart) with W both in place and
     * in {@link #packWeightBlocks}' copy: the forward pass of a prediction, with the bits of {@link
     * #gemmPackedBias} (each element the same chain of products summed over p from zero, the bias
     * added last).
     */
    void gemmBlocksBias(float[] a, int aOff, float[] blocks, int blocksOff, float[] w, int wOff, float[] bias,
                        int biasOff, float[] c, int cOff, int ldc, int m, int n, int k);

    /** {@return a token for {@link #gemmPackedBias(float[], int, float[], int, float[], int, float[], int, int, int, int, int, long)} that no other call has returned} */
    static long newToken() {
        return KernelSelection.TOKENS.incrementAndGet();
    }

    /**
     * The token that shares nothing: a call with it copies what it needs as the form without a
     * token does (for a one-off product, where a copy kept for later calls would be wasted).
     */
    long NO_TOKEN = 0;

    /**
     * Whether {@link #gemmPackedBias} on packed weights beats {@link #gemmABtBias} for a layer of
     * {@code n} units; layers narrower than a vector, or than two when not a whole number of
     * vectors, are faster as dot products.
     */
    boolean transposedForwardPays(int n);

    /** Units per panel of packed weights: the width of the forward kernel's register block. */
    int panelWidth();

    /**
     * Packs rows (units) {@code [j0, j1)} of the weights W {@code [n×k]} at {@code wOff} into the
     * layout {@link #gemmPackedBias} reads, {@code n·k} floats at {@code pOff}: units in panels of
     * {@link #panelWidth()} w, panel q holding units {@code [q·w, q·w + w)} as k rows of w contiguous
     * floats, then the {@code n mod w} units past the last full panel as k rows of {@code n mod w}.
     * Panels are what a register block streams, so the forward pass reads memory in order.
     */
    default void packRows(float[] w, int wOff, int n, int k, int j0, int j1, float[] packed, int pOff) {
        int width = panelWidth();
        int full = n / width * width;
        int j = j0;
        while (j < j1 && j < full) {
            int q = j / width;
            int end = Math.min(j1, (q + 1) * width);
            transpose(w, wOff + j * k, end - j, k, packed, pOff + q * width * k + j - q * width, width);
            j = end;
        }
        if (j < j1) {
            transpose(w, wOff + j * k, j1 - j, k, packed, pOff + full * k + j - full, n - full);
        }
    }

    /**
     * Copies rows {@code index[from + r]} of X (rows of {@code len} floats from 0), for {@code r <
     * count}, to {@code count} consecutive rows of Out from {@code outOff}: a mini-batch's input
     * gathered from a data set in its shuffled order.
     */
    void gatherRows(float[] x, int len, int[] index, int from, int count, float[] out, int outOff);

    /** {@code T[j][i] = A[i][j]} for A of {@code rows × cols}, T with rows {@code ldt} apart (≥ rows). */
    void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff, int ldt);

    /** {@code C[m×n] = A[m×k] · B[k×n]}, the backward pass {@code Δprev = Δ W}. */
    default void gemmAB(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k) {
        gemmAB(a, aOff, k, b, bOff, c, cOff, m, n, k, false);
    }

    /**
     * As {@link #gemmAB(float[], int, float[], int, float[], int, int, int, int)} with the rows of A
     * {@code lda} apart (A's columns {@code [aOff, aOff + k)} of a wider matrix: Δ of a chunk of a
     * layer's units), and when {@code accumulate} C plus the product: each element is the product's
     * sum taken from zero, then added to C, so that adding chunk products one by one gives the same
     * bits as adding them up afterwards in the same order.
     */
    void gemmAB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                boolean accumulate);

    /**
     * {@code C[m×n] = A[k×m]ᵀ · B[k×n]}, or {@code +=} when {@code accumulate}: the weight gradient
     * {@code ∂W = Δᵀ A} summed over the k samples of a shard. Overwriting spares the caller a pass
     * that zeroes C, and gives the same values as zeroing and accumulating.
     */
    default void gemmAtB(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                         boolean accumulate) {
        gemmAtB(a, aOff, m, b, bOff, c, cOff, m, n, k, accumulate);
    }

    /**
     * As {@link #gemmAtB(float[], int, float[], int, float[], int, int, int, int, boolean)} with the
     * rows of A {@code lda} apart: A's columns {@code [aOff, aOff + m)} of a wider matrix, which is
     * how the weight gradient of a block of units is computed alone.
     */
    void gemmAtB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                 boolean accumulate);

    /**
     * As {@link #gemmAtB(float[], int, int, float[], int, float[], int, int, int, int, boolean)},
     * for one of several calls with the same B (blocks of units of one layer's weight gradient, in
     * a phase of the trainer): calls on one thread with the same {@code token} (see {@link
     * #newToken()}; a new one for each B, and whenever B's values may have changed; {@link
     * #NO_TOKEN}: nothing shared) may share one copy of B's panels. The same bits as without a token.
     */
    default void gemmAtB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                         boolean accumulate, long token) {
        gemmAtB(a, aOff, lda, b, bOff, c, cOff, m, n, k, accumulate);
    }

    /** {@code y[n] = Σ_rows A[m×n]} (or {@code +=} when {@code accumulate}), the bias gradient {@code ∂b = Σ_samples δ}. */
    default void columnSums(float[] a, int aOff, int m, int n, float[] y, int yOff, boolean accumulate) {
        columnSums(a, aOff, n, m, n, y, yOff, accumulate);
    }

    /** As {@link #columnSums(float[], int, int, int, float[], int, boolean)} with the rows of A {@code lda} apart. */
    void columnSums(float[] a, int aOff, int lda, int m, int n, float[] y, int yOff, boolean accumulate);

    // ---- activations, forward: out = f(z) ------------------------------------------------

    /**
     * {@code out[off, off + len) = f(z)} for an activation of one value at a time.
     *
     * @param f the activation
     * @param z the pre-activations
     * @param out where the activations go (may be z)
     * @param off the first index
     * @param len how many values
     * @param alpha the activation's parameter (0 when it has none)
     */
    void activate(Elementwise f, float[] z, float[] out, int off, int len, float alpha);

    /** Row-wise softmax of {@code rows × cols}, shifted by the row maximum so it cannot overflow. */
    void softmaxRows(float[] z, float[] out, int off, int rows, int cols);

    /**
     * PReLU of {@code rows × cols} with a learned slope per column:
     * {@code out[r][j] = z > 0 ? z : slope[sOff + j]·z}.
     */
    void prelu(float[] z, float[] out, int off, int rows, int cols, float[] slope, int sOff);

    /**
     * Maxout: {@code out[r][j] = max_p z[r][p·units + j]}, each row of z holding {@code pieces}
     * blocks of {@code units} linear pieces (so that the max is taken between contiguous vectors).
     */
    default void maxout(float[] z, float[] out, int rows, int units, int pieces) {
        maxout(z, out, 0, 0, rows, units, pieces);
    }

    /**
     * As {@link #maxout(float[], float[], int, int, int)} for rows {@code [row0, row0 + rows)}, row r
     * of z starting at {@code origin + r·units·pieces} and of out at {@code origin + r·units}.
     */
    void maxout(float[] z, float[] out, int origin, int row0, int rows, int units, int pieces);

    // ---- activations, backward: delta ⊙= f'(z), written with the cheapest argument ----------

    /**
     * {@code delta[off, off + len) ⊙= f'(z)} for an activation of one value at a time.
     *
     * @param f the activation
     * @param z the pre-activations
     * @param a the activations {@code f(z)}
     * @param delta ∂L/∂a, turned into ∂L/∂z in place
     * @param off the first index
     * @param len how many values
     * @param alpha the activation's parameter (0 when it has none)
     */
    void activateBackward(Elementwise f, float[] z, float[] a, float[] delta, int off, int len, float alpha);

    /**
     * PReLU's backward pass, in place: {@code δ ⊙= (z > 0 ? 1 : slope_j)}, and the slopes' gradient
     * {@code ∂slope_j (+)= Σ_r δ[r][j]·(z > 0 ? 0 : z)} from δ as it came in (summed row by row, in
     * row order; overwritten unless {@code accumulate}).
     */
    void preluBackward(float[] z, float[] delta, int off, int rows, int cols, float[] slope, int sOff,
                       float[] slopeGrad, int gOff, boolean accumulate);

    /**
     * Maxout's backward pass: {@code dz[r][p·units + j] = δ[r][j]} for the first piece p that
     * attained the maximum {@code a[r][j]}, 0 for the others.
     */
    default void maxoutBackward(float[] z, float[] a, float[] delta, float[] dz, int rows, int units, int pieces) {
        maxoutBackward(z, a, delta, dz, 0, 0, rows, units, pieces);
    }

    /**
     * As {@link #maxoutBackward(float[], float[], float[], float[], int, int, int)} for rows {@code
     * [row0, row0 + rows)}, row r of z and dz starting at {@code origin + r·units·pieces} and of a
     * and δ at {@code origin + r·units}.
     */
    void maxoutBackward(float[] z, float[] a, float[] delta, float[] dz, int origin, int row0, int rows, int units, int pieces);

    /**
     * Softmax Jacobian-vector product, row by row, in place: {@code g ← s ⊙ (g − ⟨g, s⟩)} where
     * s is the softmax output and g the gradient with respect to it.
     */
    void softmaxBackwardRows(float[] s, float[] g, int off, int rows, int cols);

    // ---- optimizer updates (PyTorch's formulas); g is a gradient sum, s scales it to a mean --------
    // The parameters and their state (velocity, moments) run from off, the gradient from gOff: a
    // trainer may keep a block's gradient in a small buffer of its own, laid out from a cache line.

    /** Plain SGD: {@code p ← p − η·(s·g + λ·p)}. */
    void sgdStep(float[] p, int off, float[] g, int gOff, int len, float lr, float s, float l2);

    /**
     * Plain SGD from the weight gradient of one sample, the outer product {@code δ·xᵀ}, without
     * storing it: {@code P[j, i] ← P[j, i] − η·(s·g + λ·P[j, i])} with {@code g = δ_j·x_i}, for
     * rows {@code j < m} (n apart from {@code pOff}) and columns {@code i < n}. The same bits as
     * {@link #gemmAtB} over one row followed by {@link #sgdStep}, with one pass over P instead of
     * three over P and the gradient.
     */
    void sgdOuterStep(float[] p, int pOff, float[] delta, int dOff, float[] x, int xOff, int m, int n,
                      float lr, float s, float l2);

    /**
     * SGD with momentum μ: {@code d = s·g + λ·p; v ← μ·v + d; p ← p − η·(nesterov ? d + μ·v : v)},
     * with a subnormal v kept as 0 (see {@link #adamStep}).
     */
    void momentumStep(float[] p, float[] v, int off, float[] g, int gOff, int len, float lr, float s, float l2,
                      float mu, boolean nesterov);

    /**
     * Adam / AdamW: {@code p ← p·(1 − η·wd); d = s·g + λ·p; m ← β1·m + (1−β1)·d; v ← β2·v + (1−β2)·d²;
     * p ← p − η·(c1·m) / (√(c2·v) + ε)} where c1, c2 are the bias corrections 1/(1 − βᵗ).
     *
     * <p>A moment that falls below {@link Float#MIN_NORMAL} is kept as 0. The moments of a
     * parameter whose gradient is 0 (the weights of an input pixel that is always 0, of a ReLU
     * unit that never fires) shrink by β every step, turn subnormal within a few hundred steps and
     * then stay subnormal for good (β times the smallest ones rounds back to themselves). Intel's
     * cores take a microcode assist for every subnormal result: Adam ran 22× slower per parameter
     * with such an m (Xeon, AVX-512: 9.2 against 0.41 ns), and training 784-512-256-10 on
     * Fashion-MNIST with Adam fell from 57 k to 48 k samples/s at epoch 3 (SGD: 82-89 k). What
     * flushing changes is below the last bit of any parameter farther than 10⁻²⁰ from 0: the
     * update from such an m, η·c1·m / (√(c2·v) + ε), is below 10⁻²⁸·η with ε = 10⁻⁸.
     *
     * <p>For the same reason no step computes a subnormal on the way: a gradient whose
     * {@code (1−β2)·d²} would be subnormal adds nothing to v (|d| below about 5·10⁻¹⁸, where
     * √v is ten orders of magnitude under ε), and a moment whose {@code η·c1·m} would be
     * subnormal moves nothing (the update it gives is below 10⁻²⁹). Both come with ever more
     * parameters as a network grows confident: over 40 epochs of the default network, Adam
     * went from 76 k to 60 k samples/s without these and the output gradients' floor
     * (see the engine's loss gradient), and held 72-77 k with both (two runs).
     */
    void adamStep(float[] p, float[] m, float[] v, int off, float[] g, int gOff, int len, float lr, float s, float l2,
                  float decoupledDecay, float beta1, float beta2, float eps, float c1, float c2);

    /**
     * RMSprop: {@code d = s·g + λ·p; r ← α·r + (1−α)·d²; p ← p − η·d / (√r + ε)}, a subnormal r
     * kept as 0, and neither {@code (1−α)·d²} nor {@code η·d} computed where it would be
     * subnormal (see {@link #adamStep}; over 40 epochs of the default network RMSprop slowed from
     * 72-74 k to 63-65 k samples/s without the latter two).
     */
    void rmspropStep(float[] p, float[] r, int off, float[] g, int gOff, int len, float lr, float s, float l2,
                     float alpha, float eps);

    // ---- vector arithmetic ------------------------------------------------------------------

    /** {@code y += alpha · x}. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len);

    /** {@code out = a − b}. */
    void subtract(float[] a, float[] b, float[] out, int off, int len);

    /** {@code Σ a·b}. */
    float dot(float[] a, int aOff, float[] b, int bOff, int len);
}
