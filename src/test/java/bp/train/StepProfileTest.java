package bp.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bp.data.DataSources;
import bp.nn.Activation;
import bp.nn.Network;
import org.junit.jupiter.api.Test;
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
        String report = profile.report();
        for (String line : new String[] {"forward + loss", "  input rows", "  layer 0", "  layer 1", "  loss",
                "backward layer 0 + updates"}) {
            assertTrue(report.contains(line), "no '" + line + "' in\n" + report);
        }
        assertEquals(threads > 1, report.contains("busy by thread"), report);
        // where the forward pass goes by units, its last phase also takes the output layer's input
        // gradient, and the output layer's backward phase is skipped
        boolean inForward = profile.forwardPartMicros(StepProfile.outputInputGradient(net.layerCount())) > 0;
        assertEquals(inForward, report.contains("  output's input gradient"), report);
        assertEquals(inForward, !report.contains("backward layer 1 + updates"), report);
        assertTrue(threads == 1 || inForward, "two threads share the 300 units out by blocks, yet\n" + report);
    }

    /** Each thread's busy time and tasks go to that thread alone, and add up to the phase's. */
    @Test
    void eachThreadsBusyTimeAndTasksAreCountedApart() {
        StepProfile profile = new StepProfile(2);
        profile.threads(2);
        profile.busy(StepProfile.FORWARD, 0, 3_000);
        profile.busy(StepProfile.FORWARD, 1, 5_000);
        profile.busy(StepProfile.FORWARD, 1, 7_000);
        profile.busy(StepProfile.backward(1), 1, 2_000);
        profile.phase(StepProfile.FORWARD, 10_000);
        profile.phase(StepProfile.backward(1), 4_000);
        profile.step(20_000);
        assertEquals(3.0, profile.threadBusyMicros(StepProfile.FORWARD, 0), 1e-9);
        assertEquals(12.0, profile.threadBusyMicros(StepProfile.FORWARD, 1), 1e-9);
        assertEquals(15.0, profile.busyMicros(StepProfile.FORWARD), 1e-9);
        assertEquals(2.0, profile.busyMicros(StepProfile.backward(1)), 1e-9);
        String report = profile.report();
        assertTrue(report.contains("3.0 (1.0) / 12.0 (2.0)"), report);
        // wall 10 µs on each of the 2 threads the steps ran on, 15 µs of it busy: 5 µs waiting
        assertTrue(report.contains(String.format(java.util.Locale.ROOT, "%10.1f %10.1f %10.1f", 10.0, 15.0, 5.0)), report);
        assertTrue(report.contains("0.0 (0.0) / 2.0 (1.0)"), report);
    }
}
