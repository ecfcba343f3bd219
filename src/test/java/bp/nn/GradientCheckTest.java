package bp.nn;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import bp.kernel.Kernels;
import bp.kernel.ScalarKernels;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hidden activation × output activation × loss, on a network with two hidden layers: the
 * double-precision reference agrees with central finite differences to < 1e-6, and the float32
 * engine agrees with the reference to < 1e-4 (float32 carries 6-7 digits; the error measure is
 * defined in {@link GradientCheck}).
 */
class GradientCheckTest {

    static final double REFERENCE_LIMIT = 1e-6;
    static final double ENGINE_LIMIT = 1e-4;

    @TestFactory
    List<DynamicTest> everyActivationAndLoss() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Activation hidden : Activation.values()) {
            for (Activation output : Activation.values()) {
                for (Loss loss : Loss.values()) {
                    if (loss == Loss.CROSS_ENTROPY && output != Activation.SOFTMAX
                            || loss == Loss.BINARY_CROSS_ENTROPY && output != Activation.SIGMOID) {
                        continue; // rejected at build time
                    }
                    String name = hidden.label() + " hidden, " + output.label() + " output, " + loss.label();
                    tests.add(DynamicTest.dynamicTest(name, () -> {
                        Network net = Network.builder(5).dense(7, hidden).dense(6, hidden).dense(4, output)
                                .loss(loss).seed(hidden.ordinal() * 31L + output.ordinal() * 7L + loss.ordinal())
                                .build();
                        GradientCheck.Result r = GradientCheck.run(net, 4, 99);
                        assertTrue(r.referenceVsFiniteDifferences() < REFERENCE_LIMIT,
                                name + ": reference vs finite differences " + r.referenceVsFiniteDifferences());
                        assertTrue(r.engineVsReference() < ENGINE_LIMIT,
                                name + ": engine vs reference " + r.engineVsReference());
                    }));
                }
            }
        }
        return tests;
    }

    /**
     * Layers of more units than a chunk of the input gradient: its chunks' products are added up
     * right, chunks of 128 units (200: two, the second of 72) and of 256 (1030 units: five, the
     * last of 6, so that no layer is summed over more than eight).
     */
    @org.junit.jupiter.api.Test
    void layersWiderThanAnInputGradientChunk() {
        for (int units : new int[] {200, 1030}) {
            Network net = Network.builder(2).dense(2, Activation.TANH).dense(units, Activation.TANH)
                    .dense(2, Activation.SOFTMAX).seed(11).build();
            GradientCheck.Result r = GradientCheck.run(net, 2, 5);
            assertTrue(r.referenceVsFiniteDifferences() < REFERENCE_LIMIT, units + " units: reference vs finite "
                    + "differences " + r.referenceVsFiniteDifferences());
            assertTrue(r.engineVsReference() < ENGINE_LIMIT, units + " units: engine vs reference "
                    + r.engineVsReference());
        }
    }

    @org.junit.jupiter.api.Test
    void aBrokenGradientIsCaught() {
        Network net = Network.builder(3).dense(4, Activation.TANH).dense(2, Activation.IDENTITY).loss(Loss.MSE).seed(5)
                .build();
        GradientCheck.Result sound = GradientCheck.run(net, 3, 7);
        assertTrue(sound.engineVsReference() < ENGINE_LIMIT, "the sound engine: " + sound.engineVsReference());
        for (String broken : new String[] {"activateBackward", "gemmAtB", "gemmAB"}) {
            Network faulty = new Network(net, withASignError(broken));
            GradientCheck.Result r = GradientCheck.run(faulty, 3, 7);
            assertTrue(r.engineVsReference() > 100 * ENGINE_LIMIT, broken + " with a sign error: " + r.engineVsReference());
        }
    }

    /**
     * The scalar kernels with one of them broken as a slip in a backward pass would break it: the
     * part of its output array that it writes comes out negated.
     */
    static Kernels withASignError(String kernel) {
        Kernels sound = ScalarKernels.INSTANCE;
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(sound, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals(kernel)) {
                        negateOutput(kernel, args);
                    }
                    return result;
                });
    }

    private static void negateOutput(String kernel, Object[] args) {
        boolean strided = args.length >= 11; // the GEMMs' full forms have lda after aOff (and may end in a token)
        switch (kernel) {
            case "activateBackward" -> negate((float[]) args[3], (int) args[4], (int) args[5]);
            case "gemmAB" -> negate((float[]) args[strided ? 5 : 4], (int) args[strided ? 6 : 5],
                    (int) args[strided ? 7 : 6] * (int) args[strided ? 8 : 7]);
            case "gemmAtB" -> negate((float[]) args[strided ? 5 : 4], (int) args[strided ? 6 : 5],
                    (int) args[strided ? 7 : 6] * (int) args[strided ? 8 : 7]);
            default -> throw new IllegalArgumentException(kernel);
        }
    }

    private static void negate(float[] v, int from, int len) {
        for (int i = from; i < from + len; i++) {
            v[i] = -v[i];
        }
    }
}
