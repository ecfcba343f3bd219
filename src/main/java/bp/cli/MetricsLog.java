package bp.cli;

import bp.train.EpochStats;
import bp.train.TrainingListener;
import com.fasterxml.jackson.jr.ob.JSON;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --metrics FILE.jsonl}: appends one JSON object per epoch (JSON Lines), flushed at once so
 * that a plot or a tail can follow a run. Figures that do not apply are null.
 */
final class MetricsLog implements TrainingListener, AutoCloseable {

    private final Path file;
    private final BufferedWriter out;
    private final String run;

    MetricsLog(Path file, String run) {
        this.file = file;
        this.run = run;
        try {
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("--metrics " + file + ": cannot open for appending (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public void onEpochEnd(EpochStats s) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("run", run);
        line.put("epoch", s.epoch());
        line.put("train_loss", number(s.trainLoss()));
        line.put("train_accuracy", number(s.trainAccuracy()));
        line.put("val_loss", number(s.validationLoss()));
        line.put("val_accuracy", number(s.validationAccuracy()));
        line.put("test_loss", number(s.testLoss()));
        line.put("test_accuracy", number(s.testAccuracy()));
        line.put("seconds", number(s.seconds()));
        line.put("samples_per_second", number(s.samplesPerSecond()));
        try {
            out.write(JSON.std.asString(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("--metrics " + file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    private static Double number(double v) {
        return Double.isFinite(v) ? v : null;
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("--metrics " + file + ": cannot close (" + e.getMessage() + ")", e);
        }
    }
}
