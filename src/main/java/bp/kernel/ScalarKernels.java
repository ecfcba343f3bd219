package bp.kernel;

/**
 * Plain Java kernels: the reference the vector kernels are tested against, and the fallback when
 * the Vector API is unavailable. Loops are written in the order the JIT can auto-vectorise where
 * that does not change results (axpy-shaped inner loops), and in the obvious order otherwise.
 */
public final class ScalarKernels implements Kernels {

    /** Units per packed panel: 16 contiguous floats, a loop the JIT can vectorise on its own. */
    private static final int PANEL = 16;

    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String description() {
        return "scalar (plain Java)";
    }

    @Override
    public void gemmABtBias(float[] a, int aOff, float[] b, int bOff, float[] bias, int biasOff,
                            float[] c, int cOff, int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            int aRow = aOff + i * k;
            int cRow = cOff + i * n;
            for (int j = 0; j < n; j++) {
                float sum = bias == null ? 0f : bias[biasOff + j];
                int bRow = bOff + j * k;
                for (int p = 0; p < k; p++) {
                    sum += a[aRow + p] * b[bRow + p];
                }
                c[cRow + j] = sum;
            }
        }
    }

    @Override
    public void gemmPackedBias(float[] a, int aOff, float[] packed, int pOff, float[] bias, int biasOff,
                               float[] c, int cOff, int ldc, int m, int n, int k) {
        int full = n / PANEL * PANEL;
        for (int i = 0; i < m; i++) {
            int cRow = cOff + i * ldc;
            java.util.Arrays.fill(c, cRow, cRow + n, 0f);
            for (int q = 0; q < full; q += PANEL) {
                int panel = pOff + q * k;
                for (int p = 0; p < k; p++) {
                    float aip = a[aOff + i * k + p];
                    for (int j = 0; j < PANEL; j++) {
                        c[cRow + q + j] += aip * packed[panel + p * PANEL + j];
                    }
                }
            }
            int rest = n - full;
            for (int p = 0; p < k; p++) {
                float aip = a[aOff + i * k + p];
                for (int j = 0; j < rest; j++) {
                    c[cRow + full + j] += aip * packed[pOff + full * k + p * rest + j];
                }
            }
            if (bias != null) {
                for (int j = 0; j < n; j++) {
                    c[cRow + j] += bias[biasOff + j];
                }
            }
        }
    }

    /** The sums of {@link #gemmPackedBias}, in the same order, reading B's rows in place. */
    @Override
    public void gemmABtBiasInPlace(float[] a, int aOff, float[] b, int bOff, float[] bias, int biasOff,
                                   float[] c, int cOff, int ldc, int m, int n, int k, long token) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum += a[aOff + i * k + p] * b[bOff + j * k + p];
                }
                c[cOff + i * ldc + j] = bias == null ? sum : sum + bias[biasOff + j];
            }
        }
    }

    @Override
    public boolean forwardReadsWeightsInPlace(int n) {
        return false;
    }

    @Override
    public boolean weightBlocksPay(int n) {
        return false;
    }

    /** Blocks of one unit: W as it is. */
    @Override
    public void packWeightBlocks(float[] w, int wOff, int n, int k, float[] blocks, int blocksOff) {
        System.arraycopy(w, wOff, blocks, blocksOff, n * k);
    }

    /** The sums of {@link #gemmPackedBias}, in the same order, from the copy in blocks of one unit. */
    @Override
    public void gemmBlocksBias(float[] a, int aOff, float[] blocks, int blocksOff, float[] w, int wOff, float[] bias,
                               int biasOff, float[] c, int cOff, int ldc, int m, int n, int k) {
        gemmABtBiasInPlace(a, aOff, blocks, blocksOff, bias, biasOff, c, cOff, ldc, m, n, k, NO_TOKEN);
    }

    @Override
    public int panelWidth() {
        return PANEL;
    }

    @Override
    public boolean transposedForwardPays(int n) {
        return true;
    }

    @Override
    public void gatherRows(float[] x, int len, int[] index, int from, int count, float[] out, int outOff) {
        for (int r = 0; r < count; r++) {
            System.arraycopy(x, index[from + r] * len, out, outOff + r * len, len);
        }
    }

    /**
     * Blocked so that both the rows read and the rows written stay in L1, four rows at a time so
     * that each column becomes four consecutive stores.
     */
    @Override
    public void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff, int ldt) {
        final int block = 64;
        for (int j0 = 0; j0 < cols; j0 += block) {
            int j1 = Math.min(cols, j0 + block);
            int i = 0;
            for (; i + 4 <= rows; i += 4) {
                int a0 = aOff + i * cols;
                int a1 = a0 + cols;
                int a2 = a1 + cols;
                int a3 = a2 + cols;
                for (int j = j0; j < j1; j++) {
                    int o = tOff + j * ldt + i;
                    t[o] = a[a0 + j];
                    t[o + 1] = a[a1 + j];
                    t[o + 2] = a[a2 + j];
                    t[o + 3] = a[a3 + j];
                }
            }
            for (; i < rows; i++) {
                for (int j = j0; j < j1; j++) {
                    t[tOff + j * ldt + i] = a[aOff + i * cols + j];
                }
            }
        }
    }

    @Override
    public void gemmAB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                       boolean accumulate) {
        for (int i = 0; i < m; i++) {
            int cRow = cOff + i * n;
            if (accumulate) {
                // the product's sum from zero, then C: element by element (B read down a column, slowly)
                for (int j = 0; j < n; j++) {
                    float sum = 0f;
                    for (int p = 0; p < k; p++) {
                        sum += a[aOff + i * lda + p] * b[bOff + p * n + j];
                    }
                    c[cRow + j] += sum;
                }
                continue;
            }
            java.util.Arrays.fill(c, cRow, cRow + n, 0f);
            for (int p = 0; p < k; p++) {
                float aip = a[aOff + i * lda + p];
                int bRow = bOff + p * n;
                for (int j = 0; j < n; j++) {
                    c[cRow + j] += aip * b[bRow + j];
                }
            }
        }
    }

    @Override
    public void gemmAtB(float[] a, int aOff, int lda, float[] b, int bOff, float[] c, int cOff, int m, int n, int k,
                        boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(c, cOff, cOff + m * n, 0f);
        }
        for (int p = 0; p < k; p++) {
            int bRow = bOff + p * n;
            for (int i = 0; i < m; i++) {
                float api = a[aOff + p * lda + i];
                int cRow = cOff + i * n;
                for (int j = 0; j < n; j++) {
                    c[cRow + j] += api * b[bRow + j];
                }
            }
        }
    }

    @Override
    public void columnSums(float[] a, int aOff, int lda, int m, int n, float[] y, int yOff, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(y, yOff, yOff + n, 0f);
        }
        for (int i = 0; i < m; i++) {
            int row = aOff + i * lda;
            for (int j = 0; j < n; j++) {
                y[yOff + j] += a[row + j];
            }
        }
    }

    @Override
    public void activate(Elementwise f, float[] z, float[] out, int off, int len, float alpha) {
        f.forward(z, out, off, len, alpha);
    }

    @Override
    public void activateBackward(Elementwise f, float[] z, float[] a, float[] delta, int off, int len, float alpha) {
        f.backward(z, a, delta, off, len, alpha);
    }

    @Override
    public void prelu(float[] z, float[] out, int off, int rows, int cols, float[] slope, int sOff) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0, i = off + r * cols; j < cols; j++, i++) {
                out[i] = z[i] > 0f ? z[i] : slope[sOff + j] * z[i];
            }
        }
    }

    @Override
    public void maxout(float[] z, float[] out, int origin, int row0, int rows, int units, int pieces) {
        for (int r = row0; r < row0 + rows; r++) {
            maxoutRow(z, origin + r * units * pieces, out, origin + r * units, 0, units, units, pieces);
        }
    }

    /** Maxout of units {@code [j0, j1)} of one row; z's row starts at {@code zRow}, out's at {@code outRow}. */
    static void maxoutRow(float[] z, int zRow, float[] out, int outRow, int j0, int j1, int units, int pieces) {
        for (int j = j0; j < j1; j++) {
            float m = z[zRow + j];
            for (int p = 1; p < pieces; p++) {
                m = Math.max(m, z[zRow + p * units + j]);
            }
            out[outRow + j] = m;
        }
    }

    @Override
    public void softmaxRows(float[] z, float[] out, int off, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                max = Math.max(max, z[row + j]);
            }
            float sum = 0f;
            for (int j = 0; j < cols; j++) {
                float e = (float) Math.exp(z[row + j] - max);
                out[row + j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int j = 0; j < cols; j++) {
                out[row + j] *= inv;
            }
        }
    }

    @Override
    public void preluBackward(float[] z, float[] delta, int off, int rows, int cols, float[] slope, int sOff,
                              float[] slopeGrad, int gOff, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(slopeGrad, gOff, gOff + cols, 0f);
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0, i = off + r * cols; j < cols; j++, i++) {
                float d = delta[i];
                boolean positive = z[i] > 0f;
                slopeGrad[gOff + j] += positive ? 0f : d * z[i];
                delta[i] = positive ? d : d * slope[sOff + j];
            }
        }
    }

    @Override
    public void maxoutBackward(float[] z, float[] a, float[] delta, float[] dz, int origin, int row0, int rows,
                               int units, int pieces) {
        for (int r = row0; r < row0 + rows; r++) {
            maxoutBackwardRow(z, a, delta, dz, origin + r * units * pieces, origin + r * units, 0, units, units, pieces);
        }
    }

    /** {@link #maxoutBackward} for units {@code [j0, j1)} of the row whose z starts at {@code zRow} and a at {@code aRow}. */
    static void maxoutBackwardRow(float[] z, float[] a, float[] delta, float[] dz, int zRow, int aRow, int j0, int j1,
                                  int units, int pieces) {
        for (int j = j0; j < j1; j++) {
            float max = a[aRow + j];
            float d = delta[aRow + j];
            boolean routed = false;
            for (int p = 0; p < pieces; p++) {
                int i = zRow + p * units + j;
                boolean winner = !routed && z[i] == max;
                dz[i] = winner ? d : 0f;
                routed |= winner;
            }
        }
    }

    @Override
    public void softmaxBackwardRows(float[] s, float[] g, int off, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            float gs = dot(g, row, s, row, cols);
            for (int j = 0; j < cols; j++) {
                g[row + j] = s[row + j] * (g[row + j] - gs);
            }
        }
    }

    @Override
    public void sgdStep(float[] p, int off, float[] g, int gOff, int len, float lr, float s, float l2) {
        for (int i = off, gi = gOff; i < off + len; i++, gi++) {
            p[i] = p[i] - lr * (s * g[gi] + l2 * p[i]);
        }
    }

    @Override
    public void sgdOuterStep(float[] p, int pOff, float[] delta, int dOff, float[] x, int xOff, int m, int n,
                             float lr, float s, float l2) {
        for (int j = 0; j < m; j++) {
            float d = delta[dOff + j];
            int row = pOff + j * n;
            for (int i = 0; i < n; i++) {
                float g = 0f + d * x[xOff + i]; // as gemmAtB sums one row: from zero
                p[row + i] = p[row + i] - lr * (s * g + l2 * p[row + i]);
            }
        }
    }

    /**
     * x, or 0 when x is subnormal: what the optimizers keep of a moment. See {@link
     * Kernels#adamStep} for why.
     */
    static float flushSubnormal(float x) {
        return zeroBelow(x, Float.MIN_NORMAL);
    }

    /** x, or 0 when |x| is below {@code floor}. */
    private static float zeroBelow(float x, float floor) {
        return Math.abs(x) < floor ? 0f : x;
    }

    @Override
    public void momentumStep(float[] p, float[] v, int off, float[] g, int gOff, int len, float lr, float s, float l2,
                             float mu, boolean nesterov) {
        for (int i = off, gi = gOff; i < off + len; i++, gi++) {
            float d = s * g[gi] + l2 * p[i];
            float vi = flushSubnormal(mu * v[i] + d);
            v[i] = vi;
            p[i] = p[i] - lr * (nesterov ? d + mu * vi : vi);
        }
    }

    @Override
    public void adamStep(float[] p, float[] m, float[] v, int off, float[] g, int gOff, int len, float lr, float s,
                         float l2, float decoupledDecay, float beta1, float beta2, float eps, float c1, float c2) {
        float keep = 1f - lr * decoupledDecay;
        float tinyGradient = tinyForSquare(beta2);
        float tinyMoment = tinyForProduct(c1 * lr);
        for (int i = off, gi = gOff; i < off + len; i++, gi++) {
            float pi = p[i] * keep;
            float d = s * g[gi] + l2 * pi;
            float dv = zeroBelow(d, tinyGradient);
            float mi = flushSubnormal(beta1 * m[i] + (1f - beta1) * d);
            float vi = flushSubnormal(beta2 * v[i] + (1f - beta2) * (dv * dv));
            m[i] = mi;
            v[i] = vi;
            float mUsed = zeroBelow(mi, tinyMoment);
            p[i] = pi - lr * (c1 * mUsed) / ((float) Math.sqrt(c2 * vi) + eps);
        }
    }

    /**
     * Below this |d|, a second moment's {@code (1 − β)·d²} would be subnormal: Adam and RMSprop
     * leave it out (see {@link Kernels#adamStep}).
     */
    static float tinyForSquare(float beta) {
        return (float) Math.sqrt(2 * Float.MIN_NORMAL / (1f - beta));
    }

    /** Below this |x|, the update's {@code factor·x} would be subnormal: the update takes x as 0. */
    static float tinyForProduct(float factor) {
        return 2 * Float.MIN_NORMAL / factor;
    }

    @Override
    public void rmspropStep(float[] p, float[] r, int off, float[] g, int gOff, int len, float lr, float s, float l2,
                            float alpha, float eps) {
        float tinyGradient = tinyForSquare(alpha);
        float tinyStep = tinyForProduct(lr);
        for (int i = off, gi = gOff; i < off + len; i++, gi++) {
            float d = s * g[gi] + l2 * p[i];
            float dv = zeroBelow(d, tinyGradient);
            float ri = flushSubnormal(alpha * r[i] + (1f - alpha) * (dv * dv));
            r[i] = ri;
            float dUsed = zeroBelow(d, tinyStep);
            p[i] = p[i] - lr * dUsed / ((float) Math.sqrt(ri) + eps);
        }
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        for (int i = 0; i < len; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    @Override
    public void subtract(float[] a, float[] b, float[] out, int off, int len) {
        for (int i = off; i < off + len; i++) {
            out[i] = a[i] - b[i];
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        float sum = 0f;
        for (int i = 0; i < len; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }
}
