package bp.train;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EvaluationSumsTest {

    private static Dataset part(Dataset d, int from, int to) {
        return d.select(d.name(), IntStream.range(from, to).toArray());
    }

    /** The sums of three parts, added, are the evaluation of the whole: the same counts, the loss to rounding. */
    @Test
    void partsAddUpToTheWhole() {
        Dataset test = DataSources.digits().test();
        Network net = Network.builder(64).dense(16, Activation.TANH).dense(10, Activation.SOFTMAX).seed(3).build();
        Trainer.builder().epochs(2).batchSize(32).seed(1).build().fit(net, DataSources.digits().train(), null);
        Evaluation whole = Trainer.evaluate(net, test);
        int n = test.size();
        Evaluation added = EvaluationSums.of(net, part(test, 0, 100)).add(EvaluationSums.of(net, part(test, 100, 101)))
                .add(EvaluationSums.of(net, part(test, 101, n))).evaluation();
        assertEquals(n, added.samples());
        assertArrayEquals(whole.confusion(), added.confusion());
        assertEquals(whole.accuracy(), added.accuracy());
        assertEquals(whole.loss(), added.loss(), 1e-12 * whole.loss());
    }

    /** Regression's r², MSE and MAE come from sums too (Σt and Σt² give the total variance). */
    @Test
    void regressionFiguresAddUp() {
        int n = 300;
        float[] x = new float[n];
        float[] y = new float[2 * n];
        for (int i = 0; i < n; i++) {
            x[i] = i / (float) n;
            y[2 * i] = 2 * x[i] + 0.1f * (i % 7);
            y[2 * i + 1] = -x[i];
        }
        Dataset data = Dataset.regression("line", x, 1, y, 2);
        Network net = Network.builder(1).dense(8, Activation.TANH).dense(2, Activation.IDENTITY).loss(Loss.MSE)
                .seed(2).build();
        Evaluation whole = Trainer.evaluate(net, data);
        Evaluation added = EvaluationSums.of(net, part(data, 0, 120)).add(EvaluationSums.of(net, part(data, 120, n)))
                .evaluation();
        assertEquals(whole.meanSquaredError(), added.meanSquaredError(), 1e-12);
        assertEquals(whole.meanAbsoluteError(), added.meanAbsoluteError(), 1e-12);
        assertEquals(whole.r2(), added.r2(), 1e-9);
        assertThrows(IllegalArgumentException.class,
                () -> EvaluationSums.of(net, data).add(EvaluationSums.of(
                        Network.builder(64).dense(10, Activation.SOFTMAX).build(), DataSources.digits().test())));
    }
}
