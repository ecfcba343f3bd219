package bp.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import bp.data.DataSources;
import bp.nn.Activation;
import bp.nn.Network;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StepProfileTest {

    /**
     * The forward pass's parts (input rows, each layer, the loss) are pieces of its tasks, so their
     * busy time adds up to no more than the pass's, and every part is measured: on one thread the
     * pass goes by blocks of rows through all layers, on two the 300-unit layer by blocks of units.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void forwardPartsAreMeasuredWithinTheForwardPass(int threads) {
        DataSources.TrainTest d = DataSources.digits();
        Network net = Network.builder(64).dense(300, Activation.RELU).dense(10, Activation.SOFTMAX).seed(3).build();
        StepProfile profile = new StepProfile(net.layerCount());
        Trainer.builder().epochs(1).batchSize(64).optimizer(Optimizer.sgd(0.1)).threads(threads).profile(profile)
                .build().fit(net, d.train(), null);
        double parts = 0;
        for (int part = 0; part <= StepProfile.loss(net.layerCount()); part++) {
            double micros = profile.forwardPartMicros(part);
            assertTrue(micros > 0, "forward part " + part + " not measured on " + threads + " threads");
            parts += micros;
        }
        assertTrue(parts <= profile.busyMicros(StepProfile.FORWARD) * (1 + 1e-9),
                "forward parts " + parts + " µs beyond the pass's busy " + profile.busyMicros(StepProfile.FORWARD));
        String report = profile.report(threads);
        for (String line : new String[] {"forward + loss", "  input rows", "  layer 0", "  layer 1", "  loss",
                "backward layer 0 + updates"}) {
            assertTrue(report.contains(line), "no '" + line + "' in\n" + report);
        }
    }
}
