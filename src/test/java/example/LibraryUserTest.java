package example;

import bp.data.DataSources;
import bp.data.Dataset;
import bp.io.ModelFile;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Evaluation;
import bp.train.Optimizer;
import bp.train.Trainer;
import bp.train.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Written as a library user would write it, outside bp's packages, with only the exported API. */
class LibraryUserTest {

    @Test
    void buildTrainListenPredictSaveLoad(@TempDir Path dir) {
        DataSources.TrainTest digits = DataSources.digits();
        Network net = Network.builder(64)
                .dense(32, Activation.TANH)
                .dense(10, Activation.SOFTMAX)
                .loss(Loss.CROSS_ENTROPY)
                .seed(7)
                .build();
        List<EpochStats> seen = new ArrayList<>();
        Trainer trainer = Trainer.builder()
                .epochs(5)
                .batchSize(16)
                .optimizer(Optimizer.sgd(0.1))
                .listener(new TrainingListener() {
                    @Override
                    public void onEpochEnd(EpochStats stats) {
                        seen.add(stats);
                    }
                })
                .build();
        List<EpochStats> history = trainer.fit(net, digits.train(), digits.test());
        assertEquals(history, seen);
        assertTrue(history.get(4).testAccuracy() > 0.9, history.toString());

        Dataset test = digits.test();
        float[] firstImage = java.util.Arrays.copyOf(test.features(), 64);
        float[] probabilities = net.predict(firstImage);
        assertEquals(1.0, sum(probabilities), 1e-5);

        Path file = dir.resolve("digits.safetensors");
        ModelFile.save(net, file, Map.of("note", "library test"));
        Network loaded = ModelFile.load(file);
        assertArrayEquals(probabilities, loaded.predict(firstImage));
        Evaluation e = Trainer.evaluate(loaded, test);
        assertEquals(history.get(4).testAccuracy(), e.accuracy());
    }

    /**
     * On the module path, as a consumer's module that {@code requires bp}: the exported API compiles,
     * an import of an internal package (the kernels) does not.
     */
    @Test
    void onTheModulePathOnlyTheApiIsVisible(@TempDir Path dir) throws IOException {
        ModuleDescriptor bp = ModuleFinder.of(Path.of("target/classes")).find("bp").orElseThrow().descriptor();
        Set<String> exported = bp.exports().stream().filter(e -> !e.isQualified())
                .map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
        assertEquals(Set.of("bp.nn", "bp.train", "bp.data", "bp.io"), exported);
        Set<String> toSpark = bp.exports().stream().filter(ModuleDescriptor.Exports::isQualified)
                .map(e -> e.source() + " to " + e.targets()).collect(Collectors.toSet());
        assertEquals(Set.of("bp.engine to [bp.spark]"), toSpark);

        List<String> api = compileConsumer(dir.resolve("api"), "import bp.nn.Network; import bp.train.Trainer;",
                "Network net; Trainer trainer;");
        assertEquals(List.of(), api);
        List<String> internal = compileConsumer(dir.resolve("internal"), "import bp.kernel.Kernels;", "Kernels k;");
        assertEquals(1, internal.size(), internal.toString());
        assertTrue(internal.get(0).contains("package bp.kernel is not visible")
                && internal.get(0).contains("does not export it"), internal.get(0));
    }

    /** Compiles a module {@code consumer} that requires bp, on the module path; returns the errors. */
    private static List<String> compileConsumer(Path dir, String imports, String fields) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src/consumer"));
        Files.writeString(dir.resolve("src/module-info.java"), "module consumer { requires bp; }");
        Files.writeString(src.resolve("Uses.java"), "package consumer; " + imports + " class Uses { " + fields + " }");
        // bp's classes as the exploded module, and the libraries it requires, found on the test class path
        List<String> modulePath = new ArrayList<>(List.of(Path.of("target/classes").toAbsolutePath().toString()));
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (entry.matches(".*(picocli|jackson)[^/]*\\.jar")) {
                modulePath.add(entry);
            }
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
            // an empty class path: by default javac would take this JVM's, which holds bp's classes too
            List<String> options = List.of("--module-path", String.join(java.io.File.pathSeparator, modulePath),
                    "--class-path", Files.createDirectories(dir.resolve("nothing")).toString(),
                    "-d", dir.resolve("out").toString());
            javac.getTask(null, files, diagnostics, options, null,
                    files.getJavaFileObjects(dir.resolve("src/module-info.java"), src.resolve("Uses.java"))).call();
        }
        return diagnostics.getDiagnostics().stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                .map(d -> d.getMessage(Locale.ROOT)).toList();
    }

    static double sum(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }
}
