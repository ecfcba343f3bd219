package bp.cli;

import bp.data.Dataset;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demos' printed numbers against DESIGN.md's golden values and independent computations. */
class DemoTest {

    static String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, status, err.toString());
        return out.toString();
    }

    static double[] numbersAfter(String text, String label) {
        Matcher m = Pattern.compile(Pattern.quote(label) + "([-0-9. ]+)").matcher(text);
        assertTrue(m.find(), label + " in\n" + text);
        return Arrays.stream(m.group(1).trim().split(" +")).mapToDouble(Double::parseDouble).toArray();
    }

    static void assertClose(double[] expected, double[] actual, double tolerance) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance, "element " + i);
        }
    }

    @Test
    void workedExampleStandardStep() {
        String out = run("demo", "worked-example", "--freeze-biases");
        assertClose(new double[] {0.9129342276, 0.9791636555, 0.9952742874},
                numbersAfter(out.replaceAll("[(),]", " "), "out_h = "), 1e-10);
        assertClose(new double[] {0.8910896615, 0.9043299249}, numbersAfter(out.replaceAll("[(),]", " "), "out_o = "), 1e-10);
        assertClose(new double[] {0.3918291767}, numbersAfter(out, "E = ½Σ(t − o)² = "), 1e-10);
        assertClose(new double[] {0.0122678164, 0.02453563281, 0.003945560531, 0.007891121063, 0.001093241784,
                0.002186483568, 0.0780638755, -0.006766617927, 0.08372707188, -0.007257506778, 0.08510467207,
                -0.00737691789}, numbersAfter(out, "∂E/∂w1..w12 = "), 1e-10);
        assertClose(new double[] {0.093866, 0.137732, 0.198027, 0.246054, 0.299453, 0.348907, 0.3609680622,
                0.4533833090, 0.4581364641, 0.5536287534, 0.5574476640, 0.6536884589},
                numbersAfter(out, "after step 1 w1..w12 = "), 5e-7);
        assertTrue(out.contains("b1 = 0.3500000000  b2 = 0.6500000000"), out);
    }

    @Test
    void workedExampleInTheNotesOrderPrintsTheNotesNumbers() {
        String out = run("demo", "worked-example", "--freeze-biases", "--notes-order");
        double[] w = numbersAfter(out, "after step 1 w1..w12 = ");
        assertClose(new double[] {0.0945342950, 0.1390685900, 0.1982111758, 0.2464223517, 0.2994964848,
                0.3489929697}, Arrays.copyOf(w, 6), 1e-10);
    }

    @Test
    void workedExampleErrorFallsOverSteps() {
        String out = run("demo", "worked-example", "--steps", "20");
        Matcher m = Pattern.compile("E = ½Σ\\(t − o\\)² = ([0-9.]+)").matcher(out);
        double previous = Double.POSITIVE_INFINITY;
        int steps = 0;
        while (m.find()) {
            double e = Double.parseDouble(m.group(1));
            assertTrue(e < previous, "E should fall: " + e + " after " + previous);
            previous = e;
            steps++;
        }
        assertEquals(20, steps);
    }

    @Test
    void xorNeedsAHiddenLayer() {
        String out = run("demo", "xor");
        for (String f : new String[] {"AND", "OR", "NAND"}) {
            assertTrue(out.matches("(?s).*\\n" + f + " +Correct: 4/4 .*Correct: 4/4 .*"), f + "\n" + out);
        }
        Matcher xor = Pattern.compile("\\nXOR +Correct: (\\d)/4 .*Correct: (\\d)/4").matcher(out);
        assertTrue(xor.find(), out);
        assertTrue(Integer.parseInt(xor.group(1)) < 4, "a single unit cannot learn XOR:\n" + out);
        assertEquals("4", xor.group(2), out);
    }

    /** The fitted line against ordinary least squares on the same 80 training samples. */
    @Test
    void regressionFindsTheLeastSquaresLine() {
        String out = run("demo", "regression", "--seed", "3");
        Matcher m = Pattern.compile("fitted: y = ([-0-9.]+)x ([+-]) ([0-9.]+)").matcher(out);
        assertTrue(m.find(), out);
        double slope = Double.parseDouble(m.group(1));
        double intercept = Double.parseDouble(m.group(3)) * (m.group(2).equals("-") ? -1 : 1);
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[100];
        float[] y = new float[100];
        for (int i = 0; i < 100; i++) {
            x[i] = (float) rng.nextDouble();
            y[i] = (float) (2 * x[i] + rng.nextDouble(-0.5, 0.5));
        }
        Dataset train = Dataset.regression("line", x, 1, y, 1).split(0.8, rng)[0];
        double n = train.size(), sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < train.size(); i++) {
            double a = train.features()[i];
            double b = train.targets()[i];
            sx += a;
            sy += b;
            sxx += a * a;
            sxy += a * b;
        }
        double olsSlope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        double olsIntercept = (sy - olsSlope * sx) / n;
        assertEquals(olsSlope, slope, 0.01, out);
        assertEquals(olsIntercept, intercept, 0.01, out);
        double mse = numbersAfter(out, "test MSE ")[0];
        assertTrue(mse > 0.03 && mse < 0.2, "test MSE near the noise's 1/12: " + mse);
    }
}
