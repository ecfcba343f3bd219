package bp.io;

import bp.train.TrainingState;
import com.fasterxml.jackson.jr.ob.JSON;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint: {@code DIR/checkpoint.safetensors}, a safetensors file with the tensors
 * {@code parameters}, {@code optimizer.0 …} and (with early stopping) {@code best}, all F32 of one
 * dimension, and in {@code __metadata__["bp.checkpoint"]} a JSON document with the epoch, the
 * optimizer's step count, early stopping's best epoch and loss, and the run's settings, which a
 * resumed run must match. Written atomically, so a run killed while writing leaves the previous one.
 */
public final class CheckpointFile {

    /** The checkpoint's name in its directory. */
    public static final String FILE_NAME = "checkpoint.safetensors";
    private static final String KEY = "bp.checkpoint";
    /** A checkpoint's header holds a few numbers and the settings. */
    private static final long MAX_HEADER = 1 << 20;

    private CheckpointFile() {
    }

    /**
     * A checkpoint read back: the state and the settings it was written with.
     *
     * @param state the training state
     * @param settings the settings the run was started with
     */
    public record Loaded(TrainingState state, Map<String, Object> settings) {
    }

    /**
     * Where the checkpoint of a directory is.
     *
     * @param dir the checkpoint directory
     * @return the checkpoint file in it
     */
    public static Path file(Path dir) {
        return dir.resolve(FILE_NAME);
    }

    /**
     * Writes the checkpoint of {@code dir}, replacing the previous one atomically.
     *
     * @param dir the checkpoint directory, which must exist
     * @param s the state to continue from
     * @param settings the run's settings, which a resumed run must match
     */
    public static void save(Path dir, TrainingState s, Map<String, Object> settings) {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        tensors.put("parameters", s.parameters());
        for (int i = 0; i < s.optimizerBuffers().length; i++) {
            tensors.put("optimizer." + i, s.optimizerBuffers()[i]);
        }
        if (s.bestParameters() != null) {
            tensors.put("best", s.bestParameters());
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("epoch", s.epoch());
        meta.put("batch", s.batch());
        meta.put("epoch_loss", s.epochLoss());
        meta.put("epoch_correct", s.epochCorrect());
        meta.put("optimizer_steps", s.optimizerSteps());
        meta.put("optimizer_buffers", s.optimizerBuffers().length);
        meta.put("best_epoch", s.bestEpoch());
        meta.put("best_loss", Double.isFinite(s.bestLoss()) ? s.bestLoss() : null);
        meta.put("settings", settings);
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        try {
            header.put("__metadata__", Map.of(KEY, JSON.std.asString(meta)));
            for (Map.Entry<String, float[]> t : tensors.entrySet()) {
                long end = offset + 4L * t.getValue().length;
                header.put(t.getKey(), Map.of("dtype", "F32", "shape", List.of(t.getValue().length),
                        "data_offsets", List.of(offset, end)));
                offset = end;
            }
            SafeTensors.write(file(dir), JSON.std.asBytes(header), tensors.values());
        } catch (IOException e) {
            throw new ModelFileException(file(dir) + ": cannot encode the checkpoint header: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the checkpoint of {@code dir}.
     *
     * @param dir the checkpoint directory
     * @return the state and the settings it was written with
     * @throws ModelFileException naming the file and what is wrong, for a missing or malformed checkpoint
     */
    public static Loaded load(Path dir) {
        Path file = file(dir);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file + ": no checkpoint here (written by bp train --checkpoint DIR)");
        } catch (IOException e) {
            throw new ModelFileException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        SafeTensors.Parsed parsed = SafeTensors.parse(file, bytes, MAX_HEADER);
        int dataStart = parsed.dataStart();
        try {
            Map<String, Object> header = parsed.header();
            if (!(header.get("__metadata__") instanceof Map<?, ?> m) || !(m.get(KEY) instanceof String metaJson)) {
                throw new ModelFileException(file + ": no " + KEY + " metadata (not a bp checkpoint)");
            }
            Map<String, Object> meta = JSON.std.mapFrom(metaJson);
            int buffers = number(file, meta, "optimizer_buffers").intValue();
            float[] parameters = tensor(file, header, bytes, dataStart, "parameters");
            List<float[]> opt = new ArrayList<>();
            for (int i = 0; i < buffers; i++) {
                opt.add(tensor(file, header, bytes, dataStart, "optimizer." + i));
            }
            float[] best = header.containsKey("best") ? tensor(file, header, bytes, dataStart, "best") : null;
            Object bestLoss = meta.get("best_loss");
            TrainingState state = new TrainingState(number(file, meta, "epoch").intValue(),
                    number(file, meta, "batch").intValue(), number(file, meta, "epoch_loss").doubleValue(),
                    number(file, meta, "epoch_correct").longValue(), parameters,
                    number(file, meta, "optimizer_steps").longValue(), opt.toArray(new float[0][]), best,
                    number(file, meta, "best_epoch").intValue(),
                    bestLoss instanceof Number n ? n.doubleValue() : Double.POSITIVE_INFINITY);
            @SuppressWarnings("unchecked")
            Map<String, Object> settings = meta.get("settings") instanceof Map<?, ?> s ? (Map<String, Object>) s : Map.of();
            return new Loaded(state, settings);
        } catch (IOException | RuntimeException e) {
            if (e instanceof ModelFileException m) {
                throw m;
            }
            throw new ModelFileException(file + ": not a readable checkpoint (" + ModelFile.firstLine(e.getMessage()) + ")", e);
        }
    }

    private static Number number(Path file, Map<String, Object> meta, String key) {
        if (!(meta.get(key) instanceof Number n)) {
            throw new ModelFileException(file + ": " + KEY + "." + key + " must be a number");
        }
        return n;
    }

    private static float[] tensor(Path file, Map<String, Object> header, byte[] bytes, int dataStart, String name) {
        if (!(header.get(name) instanceof Map<?, ?> t) || !"F32".equals(t.get("dtype"))
                || !(t.get("data_offsets") instanceof List<?> off) || off.size() != 2
                || !(off.get(0) instanceof Number begin) || !(off.get(1) instanceof Number end)) {
            throw new ModelFileException(file + ": tensor '" + name + "' is missing or not F32 with data_offsets");
        }
        long b = begin.longValue();
        long e = end.longValue();
        if (b < 0 || e < b || (e - b) % 4 != 0 || dataStart + e > bytes.length) {
            throw new ModelFileException(file + ": tensor '" + name + "' offsets " + b + ".." + e
                    + " do not fit the file's " + (bytes.length - dataStart) + " data bytes");
        }
        float[] v = new float[(int) ((e - b) / 4)];
        ByteBuffer.wrap(bytes, dataStart + (int) b, (int) (e - b)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
