package bp.train;

import bp.data.DataSources;
import bp.nn.Activation;
import bp.nn.Network;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's first command, as a test: {@code tools/test -Plong} runs it (about a minute on 2 cores). */
@Tag("long")
class FashionMnistTest {

    @Test
    void defaultsReach85PercentTestAccuracy() {
        DataSources.TrainTest f = DataSources.load("fashion-mnist");
        Network net = Network.builder(784).dense(512, Activation.RELU).dense(256, Activation.RELU)
                .dense(10, Activation.SOFTMAX).seed(1).build();
        List<EpochStats> h = Trainer.builder().epochs(10).batchSize(64).learningRate(0.1).seed(1).build()
                .fit(net, f.train(), f.test());
        double accuracy = h.get(h.size() - 1).testAccuracy();
        System.out.println("Fashion-MNIST test accuracy after 10 epochs: " + accuracy);
        assertTrue(accuracy >= 0.85, "test accuracy " + accuracy);
    }
}
