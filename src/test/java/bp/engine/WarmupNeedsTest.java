package bp.engine;

import bp.kernel.Elementwise;
import bp.kernel.KernelWarmup;
import bp.kernel.KernelWarmup.RowActivation;
import bp.kernel.KernelWarmup.Update;
import bp.nn.Activation;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A run's kernel warm-up names the kernels its layers compute with, as the workspace calls them. */
class WarmupNeedsTest {

    @Test
    void eachActivationNamesTheKernelsTheWorkspaceCalls() {
        KernelWarmup.Needs needs = NetworkInternals.warmupNeeds(
                List.of(Activation.RELU, Activation.TANH, Activation.SOFTMAX, Activation.PRELU, Activation.IDENTITY,
                        Activation.RELU), Set.of(Update.ADAM));
        assertEquals(EnumSet.of(Elementwise.RELU, Elementwise.TANH, Elementwise.IDENTITY), needs.elementwise());
        assertEquals(EnumSet.of(RowActivation.SOFTMAX, RowActivation.PRELU), needs.byRows());
        assertEquals(Set.of(Update.ADAM), needs.updates());
    }

    @Test
    void everyActivationHasKernelsToWarmUp() {
        KernelWarmup.Needs needs = NetworkInternals.warmupNeeds(List.of(Activation.values()), EnumSet.allOf(Update.class));
        assertEquals(KernelWarmup.Needs.ALL, needs);
    }
}
