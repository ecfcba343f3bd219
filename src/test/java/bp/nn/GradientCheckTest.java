package bp.nn;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

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

    @org.junit.jupiter.api.Test
    void aBrokenGradientIsCaught() {
        Network net = Network.builder(3).dense(4, Activation.TANH).dense(2, Activation.IDENTITY).loss(Loss.MSE).build();
        double[] x = {0.1, -0.4, 0.9};
        double[] t = {0.3, -0.2};
        double[] analytic = GradientCheck.engineGradient(net, x, t, 1);
        double[] wrong = analytic.clone();
        wrong[0] *= 1.01;
        assertTrue(GradientCheck.maxError(wrong, analytic) > 5e-3);
    }
}
