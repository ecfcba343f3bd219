package bp.cli;

import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import bp.train.Evaluation;
import bp.train.Optimizer;
import bp.train.Schedule;
import bp.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.SplittableRandom;

/** The lecture notes' examples, printed step by step. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The lecture notes' examples, step by step: worked-example, xor, regression.",
        subcommands = {DemoCommand.WorkedExample.class, DemoCommand.Xor.class, DemoCommand.Regression.class},
        footer = {"", "Examples:", "  bp demo worked-example --freeze-biases",
                "  bp demo worked-example --steps 3 --notes-order --freeze-biases", "  bp demo xor",
                "  bp demo regression"})
final class DemoCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new Main.UsageError("bp demo: name a demo: worked-example, xor or regression");
    }

    /**
     * The 2-3-2 sigmoid network of the notes (DESIGN.md, "Golden values"), in double precision and
     * the notes' numbering: h1 = σ(w1·x1 + w2·x2 + b1), h2 uses w3, w4, h3 w5, w6;
     * o1 = σ(w7·h1 + w9·h2 + w11·h3 + b2), o2 = σ(w8·h1 + w10·h2 + w12·h3 + b2).
     */
    @Command(name = "worked-example", mixinStandardHelpOptions = true,
            description = {"The notes' worked example: a 2-3-2 sigmoid network, x = (5, 10), t = (0.01, 0.99), "
                    + "w1..w12 = 0.10 … 0.65, b1 = 0.35, b2 = 0.65, E = ½Σ(t − o)², learning rate 0.5. Prints the "
                    + "forward pass, E, the deltas, the gradients and the weights after each step."},
            footer = {"", "Examples:", "  bp demo worked-example --freeze-biases",
                    "  bp demo worked-example --freeze-biases --notes-order   # the numbers the notes print"})
    static final class WorkedExample implements Runnable {

        @Option(names = "--steps", paramLabel = "N", defaultValue = "1", description = "Backpropagation steps (default: ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--freeze-biases", description = "Keep b1 and b2 fixed, as the notes do.")
        boolean freezeBiases;

        @Option(names = "--notes-order", description = "The notes' order of work: update w7..w12 first, then "
                + "compute the hidden deltas with the updated output weights (standard backprop uses the old ones).")
        boolean notesOrder;

        @Option(names = "--lr", paramLabel = "X", defaultValue = "0.5", description = "Learning rate (default: ${DEFAULT-VALUE}).")
        double lr;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            if (steps < 1 || steps > 100_000) {
                throw new Main.UsageError("--steps must be between 1 and 100000, not " + steps);
            }
            if (!(lr > 0) || Double.isInfinite(lr)) {
                throw new Main.UsageError("--lr must be a positive number, not " + lr);
            }
            PrintWriter out = spec.commandLine().getOut();
            double[] w = new double[13];
            for (int i = 1; i <= 12; i++) {
                w[i] = 0.05 + 0.05 * i;
            }
            double[] b = {0.35, 0.65};
            out.printf(Locale.ROOT, "worked example: x = (5, 10), t = (0.01, 0.99), learning rate %s, %s, %s%n",
                    lr, freezeBiases ? "biases frozen" : "biases trained",
                    notesOrder ? "the notes' order (output weights first)" : "standard backpropagation");
            printWeights(out, "initial", w, b[0], b[1]);
            for (int step = 1; step <= steps; step++) {
                step(out, step, w, b);
                printWeights(out, "after step " + step, w, b[0], b[1]);
            }
            out.flush();
        }

        private static final double[] X = {5, 10};
        private static final double[] T = {0.01, 0.99};

        /** One step on the example: forward, E, the deltas and gradients printed, then the update of w and b (b1, b2). */
        private void step(PrintWriter out, int step, double[] w, double[] b) {
            double[] x = X;
            double[] t = T;
            double[] h = new double[3];
            for (int j = 0; j < 3; j++) {
                h[j] = sigmoid(w[1 + 2 * j] * x[0] + w[2 + 2 * j] * x[1] + b[0]);
            }
            double[] o = new double[2];
            for (int k = 0; k < 2; k++) {
                o[k] = sigmoid(w[7 + k] * h[0] + w[9 + k] * h[1] + w[11 + k] * h[2] + b[1]);
            }
            double error = 0.5 * ((t[0] - o[0]) * (t[0] - o[0]) + (t[1] - o[1]) * (t[1] - o[1]));
            out.printf(Locale.ROOT, "%nstep %d%n", step);
            out.printf(Locale.ROOT, "  forward   out_h = (%.10f, %.10f, %.10f)%n", h[0], h[1], h[2]);
            out.printf(Locale.ROOT, "            out_o = (%.10f, %.10f)%n", o[0], o[1]);
            out.printf(Locale.ROOT, "            E = ½Σ(t − o)² = %.10f%n", error);
            // δo = ∂E/∂net_o = (o − t)·o·(1 − o)
            double[] deltaO = new double[2];
            for (int k = 0; k < 2; k++) {
                deltaO[k] = (o[k] - t[k]) * o[k] * (1 - o[k]);
            }
            double[] gradOut = new double[13];
            for (int k = 0; k < 2; k++) {
                for (int j = 0; j < 3; j++) {
                    gradOut[7 + k + 2 * j] = deltaO[k] * h[j];
                }
            }
            double[] outWeights = w.clone();
            if (notesOrder) {
                for (int i = 7; i <= 12; i++) {
                    outWeights[i] = w[i] - lr * gradOut[i];
                }
            }
            // δh_j = (Σ_k w_jk δo_k)·h_j·(1 − h_j), with the output weights of the chosen order
            double[] deltaH = new double[3];
            for (int j = 0; j < 3; j++) {
                double back = outWeights[7 + 2 * j] * deltaO[0] + outWeights[8 + 2 * j] * deltaO[1];
                deltaH[j] = back * h[j] * (1 - h[j]);
            }
            double[] grad = gradOut.clone();
            for (int j = 0; j < 3; j++) {
                grad[1 + 2 * j] = deltaH[j] * x[0];
                grad[2 + 2 * j] = deltaH[j] * x[1];
            }
            out.printf(Locale.ROOT, "  backward  δo = ∂E/∂net_o = (%.10f, %.10f)%n", deltaO[0], deltaO[1]);
            out.printf(Locale.ROOT, "            δh = (%.10f, %.10f, %.10f)%n", deltaH[0], deltaH[1], deltaH[2]);
            StringBuilder g = new StringBuilder("            ∂E/∂w1..w12 =");
            for (int i = 1; i <= 12; i++) {
                g.append(String.format(Locale.ROOT, " %.10f", grad[i]));
            }
            out.println(g);
            for (int i = 1; i <= 12; i++) {
                w[i] -= lr * grad[i];
            }
            if (!freezeBiases) {
                b[0] -= lr * (deltaH[0] + deltaH[1] + deltaH[2]);
                b[1] -= lr * (deltaO[0] + deltaO[1]);
            }
        }

        private static void printWeights(PrintWriter out, String when, double[] w, double b1, double b2) {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "  %-12s w1..w12 =", when));
            for (int i = 1; i <= 12; i++) {
                s.append(String.format(Locale.ROOT, " %.10f", w[i]));
            }
            s.append(String.format(Locale.ROOT, "   b1 = %.10f  b2 = %.10f", b1, b2));
            out.println(s);
        }

        private static double sigmoid(double z) {
            return 1 / (1 + Math.exp(-z));
        }
    }

    /** The Boolean functions: which a single layer can learn, and the hidden layer that XOR needs. */
    @Command(name = "xor", mixinStandardHelpOptions = true,
            description = {"AND, OR, NAND and XOR: a single sigmoid unit (no hidden layer) learns the first three "
                    + "but not XOR, which is not linearly separable; a 2-4-1 network with a tanh hidden layer "
                    + "learns all four. Full-batch training with the engine."},
            footer = {"", "Example:", "  bp demo xor"})
    static final class Xor implements Runnable {

        static final float[] INPUTS = {0, 0, 0, 1, 1, 0, 1, 1};

        @Option(names = "--epochs", paramLabel = "N", defaultValue = "3000", description = "Epochs per network (default: ${DEFAULT-VALUE}).")
        int epochs;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the initial weights (default: ${DEFAULT-VALUE}).")
        long seed;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            if (epochs < 1) {
                throw new Main.UsageError("--epochs must be at least 1, not " + epochs);
            }
            PrintWriter out = spec.commandLine().getOut();
            String[] names = {"AND", "OR", "NAND", "XOR"};
            int[][] truth = {{0, 0, 0, 1}, {0, 1, 1, 1}, {1, 1, 1, 0}, {0, 1, 1, 0}};
            out.println("function  single layer (2-1 sigmoid)   with a hidden layer (2-4-1)");
            for (int f = 0; f < 4; f++) {
                float[] targets = new float[4];
                for (int i = 0; i < 4; i++) {
                    targets[i] = truth[f][i];
                }
                Dataset data = Dataset.regression(names[f], INPUTS, 2, targets, 1);
                Network single = Network.builder(2).dense(1, Activation.SIGMOID)
                        .loss(Loss.BINARY_CROSS_ENTROPY).seed(seed).build();
                Network hidden = Network.builder(2).dense(4, Activation.TANH).dense(1, Activation.SIGMOID)
                        .loss(Loss.BINARY_CROSS_ENTROPY).seed(seed).build();
                out.printf(Locale.ROOT, "%-8s  %-27s  %s%n", names[f], train(single, data), train(hidden, data));
            }
            out.println("A single unit draws one straight line through the plane; XOR's true points (0,1) and (1,0)"
                    + " cannot be cut from (0,0) and (1,1) by one line.");
            out.flush();
        }

        private String train(Network net, Dataset data) {
            Trainer.builder().epochs(epochs).batchSize(4).optimizer(Optimizer.sgd(1.0)).threads(1).build()
                    .fit(net, data, null);
            StringBuilder outputs = new StringBuilder();
            int correct = 0;
            for (int i = 0; i < 4; i++) {
                float y = net.predict(new float[] {INPUTS[2 * i], INPUTS[2 * i + 1]})[0];
                outputs.append(String.format(Locale.ROOT, "%s%.2f", i == 0 ? "" : " ", y));
                if ((y > 0.5f ? 1 : 0) == (int) data.targets()[i]) {
                    correct++;
                }
            }
            return "Correct: " + correct + "/4 (" + outputs + ")";
        }
    }

    /** A line through noisy points: y = 2x + ε, ε ~ U[-0.5, 0.5], 100 samples split 80:20. */
    @Command(name = "regression", mixinStandardHelpOptions = true,
            description = {"Fits y = w·x + b to 100 samples of y = 2x + ε, x ~ U[0, 1], ε ~ U[-0.5, 0.5], split "
                    + "80:20, with one linear unit, MSE and SGD; prints the fitted line against the truth and the test "
                    + "error (the noise alone gives an MSE of 1/12 ≈ 0.083)."},
            footer = {"", "Example:", "  bp demo regression --seed 3"})
    static final class Regression implements Runnable {

        @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the data and weights (default: ${DEFAULT-VALUE}).")
        long seed;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            SplittableRandom rng = new SplittableRandom(seed);
            float[] x = new float[100];
            float[] y = new float[100];
            for (int i = 0; i < 100; i++) {
                x[i] = (float) rng.nextDouble();
                y[i] = (float) (2 * x[i] + rng.nextDouble(-0.5, 0.5));
            }
            Dataset[] parts = Dataset.regression("y = 2x + ε", x, 1, y, 1).split(0.8, rng);
            Network net = Network.builder(1).dense(1, Activation.IDENTITY).loss(Loss.MSE).seed(seed).build();
            // a cosine schedule lets SGD settle on the least-squares line instead of hovering around it
            Trainer.builder().epochs(500).batchSize(8).optimizer(Optimizer.sgd(0.1)).schedule(Schedule.cosine())
                    .threads(1).seed(seed).build().fit(net, parts[0], null);
            Evaluation test = Trainer.evaluate(net, parts[1]);
            out.printf(Locale.ROOT, "truth:  y = 2x + ε, ε ~ U[-0.5, 0.5]   (%d training, %d test samples)%n",
                    parts[0].size(), parts[1].size());
            out.printf(Locale.ROOT, "fitted: y = %.4fx %s %.4f%n", net.weight(0, 0, 0),
                    net.bias(0, 0) < 0 ? "-" : "+", Math.abs(net.bias(0, 0)));
            out.printf(Locale.ROOT, "test MSE %.4f (the noise alone: 1/12 = 0.0833), test MAE %.4f, R² %.4f%n",
                    test.meanSquaredError(), test.meanAbsoluteError(), test.r2());
            out.println("    x    truth 2x   fitted");
            for (double v = 0; v <= 1.0001; v += 0.25) {
                out.printf(Locale.ROOT, "%5.2f  %9.4f  %7.4f%n", v, 2 * v, net.predict(new float[] {(float) v})[0]);
            }
            out.flush();
        }
    }
}
