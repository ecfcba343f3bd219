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

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** The module exports these packages and nothing else: the kernels and the CLI stay internal. */
    @Test
    void moduleExportsOnlyTheApi() {
        ModuleDescriptor bp = ModuleFinder.of(Path.of("target/classes")).find("bp").orElseThrow().descriptor();
        Set<String> exported = bp.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
        assertEquals(Set.of("bp.nn", "bp.train", "bp.data", "bp.io"), exported);
    }

    static double sum(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }
}
