package bp.train;

import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class OptimizerTest {

    /** y = 3·x1 − 2·x2 + 0.5 exactly: a linear unit with MSE has the unique optimum (3, −2, 0.5). */
    static Dataset plane() {
        int n = 50;
        float[] x = new float[2 * n];
        float[] y = new float[n];
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            x[2 * i] = (float) rng.nextDouble(-1, 1);
            x[2 * i + 1] = (float) rng.nextDouble(-1, 1);
            y[i] = 3 * x[2 * i] - 2 * x[2 * i + 1] + 0.5f;
        }
        return Dataset.regression("plane", x, 2, y, 1);
    }

    @Test
    void everyOptimizerFindsTheKnownOptimum() {
        List<Optimizer> optimizers = List.of(Optimizer.sgd(0.2), Optimizer.momentum(0.05, 0.9),
                Optimizer.nesterov(0.05, 0.9), Optimizer.adam(0.02), Optimizer.adamW(0.02, 0.0),
                Optimizer.rmsprop(0.02));
        for (Optimizer o : optimizers) {
            Network net = Network.builder(2).dense(1, Activation.IDENTITY).loss(Loss.MSE).seed(1).build();
            Trainer.builder().epochs(300).batchSize(10).optimizer(o).schedule(Schedule.exponential(0.99)).build()
                    .fit(net, plane(), null);
            assertEquals(3.0, net.weight(0, 0, 0), 2e-3, o.describe());
            assertEquals(-2.0, net.weight(0, 0, 1), 2e-3, o.describe());
            assertEquals(0.5, net.bias(0, 0), 2e-3, o.describe());
        }
    }

    /** With L2 λ the optimum of mean((w·x − y)²) + (λ/2)w² for y = 2x, E[x²] = m2, is w = 2·2m2 / (2m2 + λ). */
    @Test
    void l2ShrinksTheWeightToTheRegularisedOptimumButNotTheBias() {
        float[] x = {-1, -0.5f, 0.5f, 1};
        float[] y = {-2, -1, 1, 2};
        double m2 = (1 + 0.25 + 0.25 + 1) / 4.0;
        double lambda = 0.5;
        Network net = Network.builder(1).dense(1, Activation.IDENTITY).loss(Loss.MSE).seed(1).build();
        Trainer.builder().epochs(2000).batchSize(4).optimizer(Optimizer.sgd(0.1).withL2(lambda)).build()
                .fit(net, Dataset.regression("line", x, 1, y, 1), null);
        assertEquals(2 * 2 * m2 / (2 * m2 + lambda), net.weight(0, 0, 0), 1e-5);
        assertEquals(0.0, net.bias(0, 0), 1e-5);
    }

    /** One Adam step from PyTorch's formulas: the first step moves every parameter by −lr·sign(g) (up to ε). */
    @Test
    void firstAdamStepIsLearningRateTimesSign() {
        Network net = Network.builder(2).dense(1, Activation.IDENTITY).loss(Loss.MSE).seed(1).build();
        float w0 = net.weight(0, 0, 0);
        float w1 = net.weight(0, 0, 1);
        float b0 = net.bias(0, 0);
        Dataset one = Dataset.regression("one", new float[] {1, -1}, 2, new float[] {100}, 1);
        Trainer.builder().epochs(1).batchSize(1).optimizer(Optimizer.adam(0.01)).build().fit(net, one, null);
        assertEquals(w0 + 0.01, net.weight(0, 0, 0), 1e-6);
        assertEquals(w1 - 0.01, net.weight(0, 0, 1), 1e-6);
        assertEquals(b0 + 0.01, net.bias(0, 0), 1e-6);
    }

    @Test
    void schedules() {
        assertEquals(1.0, Schedule.CONSTANT.factor(7, 10));
        assertEquals(0.01, Schedule.step(3, 0.1).factor(6, 10), 1e-15);
        assertEquals(0.1, Schedule.step(3, 0.1).factor(5, 10), 1e-15);
        assertEquals(Math.pow(0.9, 4), Schedule.exponential(0.9).factor(4, 10), 1e-15);
        assertEquals(1.0, Schedule.cosine().factor(0, 10));
        assertEquals(0.5, Schedule.cosine().factor(5, 10), 1e-15);
        assertEquals(Schedule.step(5, 0.5), Schedule.parse("step:5:0.5"));
        assertThrows(IllegalArgumentException.class, () -> Schedule.parse("linear"));
        assertThrows(IllegalArgumentException.class, () -> Schedule.parse("step:0:0.5"));
        assertThrows(IllegalArgumentException.class, () -> Optimizer.parse("lbfgs", 0.1));
        assertThrows(IllegalArgumentException.class, () -> Optimizer.momentum(0.1, 1.0));
        assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(0.1).withL2(-1));
    }
}
