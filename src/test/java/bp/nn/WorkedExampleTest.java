package bp.nn;

import bp.engine.Workspace;
import bp.data.Dataset;
import bp.train.Optimizer;
import bp.train.Trainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The lecture notes' worked example (DESIGN.md, "Golden values"): a 2-3-2 sigmoid network with
 * w1..w12 = 0.10, 0.15, …, 0.65, shared biases 0.35 and 0.65, input (5, 10), targets (0.01, 0.99),
 * loss ½Σ(t − o)², learning rate 0.5. Values are exact-arithmetic figures to 10 digits; float32
 * reproduces them to about 1e-7 (tolerances below are a few float32 ulps of the values).
 */
class WorkedExampleTest {

    static final double TOL = 2e-7;

    /** Hidden unit h1 uses w1, w2; h2 w3, w4; h3 w5, w6. o1 uses w7, w9, w11; o2 uses w8, w10, w12. */
    static Network workedExample() {
        Network net = Network.builder(2).dense(3, Activation.SIGMOID).dense(2, Activation.SIGMOID).loss(Loss.SSE).build();
        float[] p = net.parameters();
        float[] w = new float[13];
        for (int i = 1; i <= 12; i++) {
            w[i] = Float.parseFloat(java.math.BigDecimal.valueOf(5 + 5 * i, 2).toPlainString());
        }
        float[] hidden = {w[1], w[2], w[3], w[4], w[5], w[6]};
        float[] output = {w[7], w[9], w[11], w[8], w[10], w[12]};
        System.arraycopy(hidden, 0, p, net.weightOffset(0), 6);
        java.util.Arrays.fill(p, net.biasOffset(0), net.biasOffset(0) + 3, 0.35f);
        System.arraycopy(output, 0, p, net.weightOffset(1), 6);
        java.util.Arrays.fill(p, net.biasOffset(1), net.biasOffset(1) + 2, 0.65f);
        return net;
    }

    /** w1..w12 in the notes' numbering, read from the network. */
    static double[] notesWeights(Network net) {
        return new double[] {net.weight(0, 0, 0), net.weight(0, 0, 1), net.weight(0, 1, 0), net.weight(0, 1, 1),
                net.weight(0, 2, 0), net.weight(0, 2, 1), net.weight(1, 0, 0), net.weight(1, 1, 0),
                net.weight(1, 0, 1), net.weight(1, 1, 1), net.weight(1, 0, 2), net.weight(1, 1, 2)};
    }

    static Workspace forward(Network net) {
        Workspace ws = new Workspace(net, 1);
        int o = ws.offset();
        ws.input()[o] = 5f;
        ws.input()[o + 1] = 10f;
        ws.target()[o] = 0.01f;
        ws.target()[o + 1] = 0.99f;
        ws.forward(net, 1);
        return ws;
    }

    @Test
    void forwardPassAndError() {
        Network net = workedExample();
        Workspace ws = forward(net);
        Reference ref = new Reference(net);
        // the reference in exact decimals (0.1 as a double, not the float 0.1f widened)
        double[] params = new double[net.parameterCount()];
        for (int i = 0; i < params.length; i++) {
            params[i] = Double.parseDouble(Float.toString(net.parameters()[i]));
        }
        double[][] acts = ref.forward(params, new double[] {5, 10});
        assertArrayClose(new double[] {0.9129342276, 0.9791636555, 0.9952742874}, acts[1], 1e-10);
        assertArrayClose(new double[] {0.8910896615, 0.9043299249}, acts[2], 1e-10);
        assertEquals(0.3918291767, ref.loss(params, new double[] {5, 10}, new double[] {0.01, 0.99}), 1e-10);
        // the float32 engine
        float[] out = java.util.Arrays.copyOfRange(ws.output(), ws.offset(), ws.offset() + 2);
        assertArrayClose(new double[] {0.8910896615, 0.9043299249}, widen(out), TOL);
        assertEquals(0.3918291767, ws.loss(net, 1), TOL);
    }

    @Test
    void twelveGradients() {
        Network net = workedExample();
        Workspace ws = forward(net);
        float[] grad = new float[net.parameterCount()];
        ws.backward(net, 1, grad);
        double[] expected = {0.0122678164, 0.02453563281, 0.003945560531, 0.007891121063, 0.001093241784,
                0.002186483568, 0.0780638755, -0.006766617927, 0.08372707188, -0.007257506778, 0.08510467207,
                -0.00737691789};
        Network g = Network.of(net.sizes(), java.util.List.of(Activation.SIGMOID, Activation.SIGMOID), Loss.SSE, grad);
        assertArrayClose(expected, notesWeights(g), 2e-8);
        // and the output deltas: ∂E/∂b of each output unit is its delta
        assertEquals(0.08550876191, grad[net.biasOffset(1)], 2e-8);
        assertEquals(-0.00741194461, grad[net.biasOffset(1) + 1], 2e-8);
        assertEquals(0.002453563281, grad[net.biasOffset(0)], 2e-9);
        assertEquals(0.0007891121063, grad[net.biasOffset(0) + 1], 2e-9);
        assertEquals(0.0002186483568, grad[net.biasOffset(0) + 2], 2e-9);
    }

    @Test
    void oneStandardStepWithFrozenBiases() {
        Network net = workedExample();
        Dataset one = Dataset.regression("worked example", new float[] {5, 10}, 2, new float[] {0.01f, 0.99f}, 2);
        Trainer.builder().epochs(1).batchSize(1).optimizer(Optimizer.sgd(0.5)).updateBiases(false).threads(1).build()
                .fit(net, one, null);
        double[] expected = {0.093866, 0.137732, 0.198027, 0.246054, 0.299453, 0.348907};
        double[] w = notesWeights(net);
        for (int i = 0; i < 6; i++) {
            assertEquals(expected[i], w[i], 5e-7, "w" + (i + 1));
        }
        double[] outputs = {0.3609680622, 0.4533833090, 0.4581364641, 0.5536287534, 0.5574476640, 0.6536884589};
        for (int i = 0; i < 6; i++) {
            assertEquals(outputs[i], w[6 + i], 1e-7, "w" + (i + 7));
        }
        assertEquals(0.35f, net.bias(0, 0));
        assertEquals(0.65f, net.bias(1, 1));
    }

    static double[] widen(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    static void assertArrayClose(double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, "element " + i);
        }
    }
}
