package bp.cli;

import bp.kernel.KernelWarmup.Update;
import bp.train.Optimizer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Each optimizer of the command line warms up the update kernels it calls. */
class UpdateRuleTest {

    @Test
    void eachOptimizerNamesItsUpdateKernels() {
        assertEquals(Update.SGD, TrainCommand.updateRule(Optimizer.sgd(0.1)));
        assertEquals(Update.MOMENTUM, TrainCommand.updateRule(Optimizer.momentum(0.1, 0.9)));
        assertEquals(Update.MOMENTUM, TrainCommand.updateRule(Optimizer.nesterov(0.1, 0.9)));
        assertEquals(Update.ADAM, TrainCommand.updateRule(Optimizer.adam(1e-3)));
        assertEquals(Update.ADAM, TrainCommand.updateRule(Optimizer.adamW(1e-3, 0.01)));
        assertEquals(Update.RMSPROP, TrainCommand.updateRule(Optimizer.rmsprop(1e-3)));
    }
}
