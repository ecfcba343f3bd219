package bp.nn;

import bp.engine.NetworkInternals;
import bp.engine.Workspace;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictorTest {

    static final int INPUTS = 37;

    /** A network with hidden layers wider than a vector and input scaling, so every path of a pass is used. */
    static Network network() {
        Network net = unscaled(3);
        float[] sample = features(50, 11);
        net.setInputScaling(InputScaling.fit("standard", sample, 50, INPUTS));
        return net;
    }

    /** The same layers without input scaling: the first layer then reads the caller's rows in place. */
    static Network unscaled(long seed) {
        return Network.builder(INPUTS)
                .dense(70, Activation.RELU)
                .dense(33, Activation.TANH)
                .dense(5, Activation.SOFTMAX)
                .loss(Loss.CROSS_ENTROPY)
                .seed(seed)
                .build();
    }

    static float[] features(int rows, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[rows * INPUTS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble(-3, 5);
        }
        return x;
    }

    @Test
    void sameBitsAsNetworkPredictForAnyNumberOfRows() {
        Network net = network();
        Predictor predictor = new Predictor(net);
        for (int rows : new int[] {1, 2, 63, 64, 65, 200}) {
            float[] x = features(rows, rows);
            float[] out = new float[rows * 5];
            predictor.predict(x, rows, out);
            assertArrayEquals(net.predict(x, rows), out, "rows " + rows);
        }
    }

    /**
     * Without input scaling the first layer reads the caller's rows where they are, at any offset:
     * the bits of the rows copied into a workspace first, through blocks and chunks of rows.
     */
    @Test
    void rowsReadInPlaceGiveTheBitsOfRowsCopiedIn() {
        Network net = unscaled(4);
        Predictor predictor = new Predictor(net);
        for (int rows : new int[] {1, 3, 64, 65, 300}) {
            float[] x = features(rows + 2, rows);
            int from = 2 * INPUTS;
            Workspace ws = new Workspace(net, rows);
            System.arraycopy(x, from, ws.input(), ws.offset(), rows * INPUTS);
            ws.forward(net, NetworkInternals.transposedWeights(net), rows);
            float[] expected = Arrays.copyOfRange(ws.output(), ws.offset(), ws.offset() + rows * 5);
            float[] out = new float[rows * 5];
            predictor.predict(x, from, rows, out, 0);
            assertArrayEquals(expected, out, "Predictor, rows " + rows);
            assertArrayEquals(expected, net.predict(Arrays.copyOfRange(x, from, from + rows * INPUTS), rows),
                    "Network.predict, rows " + rows);
        }
    }

    @Test
    void readsAndWritesAtOffsetsAndClassifies() {
        Network net = network();
        Predictor predictor = new Predictor(net);
        float[] x = features(10, 5);
        float[] out = new float[3 + 4 * 5 + 2];
        Arrays.fill(out, -7f);
        predictor.predict(x, 2 * INPUTS, 4, out, 3);
        float[] expected = net.predict(Arrays.copyOfRange(x, 2 * INPUTS, 6 * INPUTS), 4);
        assertArrayEquals(expected, Arrays.copyOfRange(out, 3, 23));
        assertEquals(-7f, out[2]);
        assertEquals(-7f, out[23]);
        float[] row = Arrays.copyOfRange(x, 0, INPUTS);
        assertEquals(net.classify(row), predictor.classify(row));
    }

    @Test
    void manyThreadsAtOnceGetTheSingleThreadedResults() throws Exception {
        Network net = network();
        Predictor predictor = new Predictor(net);
        int rows = 150;
        float[] x = features(rows, 9);
        float[] expected = net.predict(x, rows);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    float[] out = new float[rows * 5];
                    for (int i = 0; i < 50; i++) {
                        predictor.predict(x, rows, out);
                    }
                    return out;
                }));
            }
            for (Future<float[]> r : results) {
                assertArrayEquals(expected, r.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void aCallAllocatesNothingOnceTheThreadHasItsWorkspace() {
        bp.kernel.KernelWarmup.await(); // until C2 compiles a kernel, the Vector API boxes its vectors
        Predictor predictor = new Predictor(network());
        float[] x = features(100, 2);
        float[] out = new float[100 * 5];
        predictor.predict(x, 100, out);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long align = Long.parseLong(ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                .getVMOption("ObjectAlignmentInBytes").getValue());
        long copies = 100 * ((16 + 4L * INPUTS + align - 1) / align * align + 8); // the test's copy, in whole alignment units
        long quietest = Long.MAX_VALUE;
        // the least of some rounds: the JIT, not the predictor, allocates until it has compiled the
        // kernels, which takes longer on a busy machine
        for (int round = 0; round < 200 && quietest > copies; round++) {
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 100; i++) {
                predictor.predict(x, 100, out);
                predictor.classify(Arrays.copyOf(x, INPUTS)); // the copy is the test's: 37 floats
            }
            quietest = Math.min(quietest, threads.getThreadAllocatedBytes(id) - before);
        }
        assertTrue(quietest <= copies, "bytes allocated by 100 calls: " + (quietest - copies));
    }

    @Test
    void trainingTheOriginalChangesNothing() {
        Network net = network();
        Predictor predictor = new Predictor(net);
        float[] x = features(3, 4);
        float[] before = net.predict(x, 3);
        Arrays.fill(net.parameters(), 0.5f);
        net.parametersChanged();
        float[] out = new float[15];
        predictor.predict(x, 3, out);
        assertArrayEquals(before, out);
    }

    @Test
    void arraysThatDoNotFitAreRefusedWithTheirSizes() {
        Predictor predictor = new Predictor(network());
        float[] x = features(2, 1);
        IllegalArgumentException in = assertThrows(IllegalArgumentException.class,
                () -> predictor.predict(x, 3, new float[15]));
        assertEquals("3 rows of 37 features from index 0 do not fit in 74 values", in.getMessage());
        IllegalArgumentException out = assertThrows(IllegalArgumentException.class,
                () -> predictor.predict(x, 2, new float[9]));
        assertEquals("2 rows of 5 outputs from index 0 do not fit in an array of 9", out.getMessage());
        assertThrows(IllegalArgumentException.class, () -> predictor.classify(new float[36]));
    }
}
