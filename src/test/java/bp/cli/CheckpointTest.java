package bp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run killed with SIGKILL and resumed from its checkpoint ends with the same model bytes. */
class CheckpointTest {

    static final List<String> RUN = List.of("train", "--data", "digits", "--layers", "64,48,10", "--epochs", "12",
            "--batch", "16", "--optimizer", "adam", "--lr", "0.003", "--quiet");

    static CliTest.Run bp(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args.toArray(new String[0]), new PrintWriter(out), new PrintWriter(err));
        return new CliTest.Run(status, out.toString(), err.toString());
    }

    static List<String> with(String... more) {
        List<String> args = new ArrayList<>(RUN);
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void killedAndResumedRunEqualsTheUninterruptedOne(@TempDir Path dir) throws Exception {
        Path full = dir.resolve("full.safetensors");
        CliTest.Run uninterrupted = bp(with("--save", full.toString()));
        assertEquals(0, uninterrupted.status(), uninterrupted.err());

        Path checkpoints = dir.resolve("checkpoints");
        Path checkpoint = checkpoints.resolve("checkpoint.safetensors");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path")));
        for (String property : new String[] {"bp.data.dir", "bp.vectorBits", "bp.kernels"}) {
            // the vector width decides the rounding: the child must compute like this JVM
            if (System.getProperty(property) != null) {
                command.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        command.add("bp.cli.Main");
        command.addAll(with("--checkpoint", checkpoints.toString(), "--checkpoint-every", "7",
                "--save", dir.resolve("never.safetensors").toString()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(checkpoint) && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(Files.exists(checkpoint), "no checkpoint within 60 s: " + Files.readString(dir.resolve("child.log")));
        Thread.sleep(ThreadLocalRandom.current().nextInt(0, 150)); // somewhere in a later epoch
        assertTrue(child.isAlive(), "the child finished before it could be killed: make the run longer");
        child.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
        child.waitFor(30, TimeUnit.SECONDS);
        assertTrue(!Files.exists(dir.resolve("never.safetensors")), "the killed run must not have saved a model");

        Path resumed = dir.resolve("resumed.safetensors");
        CliTest.Run r = bp(with("--resume", checkpoints.toString(), "--checkpoint", checkpoints.toString(),
                "--save", resumed.toString()));
        assertEquals(0, r.status(), r.err());
        assertArrayEquals(Files.readAllBytes(full), Files.readAllBytes(resumed));
    }

    @Test
    void resumingWithOtherSettingsIsRefused(@TempDir Path dir) throws IOException {
        Path checkpoints = dir.resolve("c");
        assertEquals(0, bp(List.of("train", "--data", "digits", "--layers", "64,16,10", "--epochs", "1", "--quiet",
                "--checkpoint", checkpoints.toString())).status());
        CliTest.Run other = bp(List.of("train", "--data", "digits", "--layers", "64,16,10", "--epochs", "3", "--quiet",
                "--lr", "0.5", "--resume", checkpoints.toString()));
        assertEquals(2, other.status());
        assertTrue(other.err().contains("other settings"), other.err());
        CliTest.Run missing = bp(List.of("train", "--data", "digits", "--resume", dir.resolve("none").toString()));
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("no checkpoint here"), missing.err());
        assertTrue(!Files.exists(dir.resolve("none")));
    }

    /** A diverging run stops with epoch and batch named, and its last checkpoint stays loadable and finite. */
    @Test
    void divergenceLeavesTheLastGoodCheckpoint(@TempDir Path dir) {
        Path checkpoints = dir.resolve("c");
        CliTest.Run r = bp(List.of("train", "--data", "digits", "--layers", "64,32,10", "--activation", "tanh",
                "--output", "identity", "--loss", "mse", "--optimizer", "sgd",
                "--lr", "100", "--schedule", "constant", "--epochs", "3", "--batch", "8", "--quiet",
                "--checkpoint", checkpoints.toString(), "--checkpoint-every", "1",
                "--save", dir.resolve("never.safetensors").toString()));
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.err().matches("(?s)bp: training diverged at epoch \\d+, batch \\d+.*smaller learning rate.*"),
                r.err());
        assertTrue(!Files.exists(dir.resolve("never.safetensors")));
        bp.train.TrainingState last = bp.io.CheckpointFile.load(checkpoints).state();
        assertTrue(last.batch() > 0, "checkpoints were written before the divergence");
        for (float p : last.parameters()) {
            assertTrue(Float.isFinite(p), "the checkpoint holds a non-finite parameter");
        }
    }
}
