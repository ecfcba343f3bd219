package bp.train;

import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EvaluationTest {

    @Test
    void precisionRecallAndF1FromTheConfusionMatrix() {
        // rows: true class, columns: predicted
        long[][] m = {{5, 1, 0}, {2, 3, 1}, {0, 0, 0}};
        Evaluation e = new Evaluation(12, 0, 8 / 12.0, m, Double.NaN, Double.NaN, Double.NaN);
        assertEquals(5 / 7.0, e.precision(0), 1e-15);
        assertEquals(5 / 6.0, e.recall(0), 1e-15);
        assertEquals(2 * (5 / 7.0) * (5 / 6.0) / (5 / 7.0 + 5 / 6.0), e.f1(0), 1e-15);
        assertEquals(3 / 4.0, e.precision(1), 1e-15);
        assertEquals(3 / 6.0, e.recall(1), 1e-15);
        assertEquals(0.0, e.precision(2), 1e-15);   // predicted once, never right
        assertEquals(Double.NaN, e.recall(2));      // no samples of class 2
        assertEquals((e.f1(0) + e.f1(1)) / 2, e.macroF1(), 1e-15);
        assertEquals(String.format(java.util.Locale.ROOT, "Evaluation[samples=12, loss=0.0000, accuracy=66.67%%, "
                + "macroF1=%.4f, confusion=[[5, 1, 0], [2, 3, 1], [0, 0, 0]]]", e.macroF1()), e.toString());
        assertEquals(e, new Evaluation(12, 0, 8 / 12.0, new long[][] {{5, 1, 0}, {2, 3, 1}, {0, 0, 0}}, Double.NaN,
                Double.NaN, Double.NaN));
    }

    /** y = 2x + 1 predicted by y = 2x: every residual is −1 (MSE 1, MAE 1); R² = 1 − n / Σ(t − t̄)². */
    @Test
    void regressionErrorsAndR2() {
        Network net = Network.of(new int[] {1, 1}, List.of(Activation.IDENTITY), Loss.MSE, new float[] {2, 0});
        float[] x = {0, 1, 2, 3, 4};
        float[] y = {1, 3, 5, 7, 9};
        Evaluation e = Trainer.evaluate(net, Dataset.regression("line", x, 1, y, 1));
        assertEquals(1.0, e.meanSquaredError(), 1e-12);
        assertEquals(1.0, e.meanAbsoluteError(), 1e-12);
        double totalSquares = 16 + 4 + 0 + 4 + 16;
        assertEquals(1 - 5 / totalSquares, e.r2(), 1e-12);
        assertEquals(Double.NaN, e.accuracy());
        assertEquals(String.format(java.util.Locale.ROOT, "Evaluation[samples=5, loss=%.4f, mse=1.000000, mae=1.000000, "
                + "r2=%.4f]", e.loss(), e.r2()), e.toString());
    }
}
