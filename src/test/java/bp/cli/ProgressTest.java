package bp.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {

    @Test
    void theBarShowsBatchesRateLossAndEta() {
        // 234 of 469 batches of 128 in 10 s: 29 952 samples, 3.0k/s; 235 batches left at 10/234 s each
        String line = TrainCommand.Progress.line(3, 15, 234, 469, 234L * 128, 10.0, 0.31214, 234);
        assertTrue(line.startsWith("epoch 3/15 [" + "#".repeat(11) + ".".repeat(13) + "] 234/469"), line);
        assertTrue(line.contains("3.0k samples/s"), line);
        assertTrue(line.contains("loss 0.3121"), line);
        assertTrue(line.contains("ETA 10 s"), line);
        String slow = TrainCommand.Progress.line(1, 1, 1, 100, 128, 30.0, 1, 1);
        assertTrue(slow.contains("ETA 49 min 30 s"), slow);
        String done = TrainCommand.Progress.line(1, 1, 100, 100, 12800, 5, 0.5, 100);
        assertEquals("#".repeat(24), done.substring(done.indexOf('[') + 1, done.indexOf(']')), done);
        assertTrue(done.contains("ETA 0 s"), done);
    }
}
