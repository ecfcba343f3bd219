package example.consumer;

import bp.data.DataSources;
import bp.io.ModelFile;
import bp.nn.*;
import bp.train.*;
import java.nio.file.Path;
import java.util.Map;

/**
 * The README's library example ("Using bp as a library"), line for line: `run` checks that the
 * statements between the markers are the README's, so the README shows code that compiles and
 * runs against the published artifact.
 */
public class Main {
    public static void main(String[] args) {
        // README begin
        DataSources.TrainTest digits = DataSources.digits();
        Network net = Network.builder(64)
                .dense(32, Activation.TANH)
                .dense(10, Activation.SOFTMAX)
                .loss(Loss.CROSS_ENTROPY)
                .seed(7)
                .build();
        Trainer trainer = Trainer.builder()
                .epochs(20)
                .batchSize(16)
                .optimizer(Optimizer.adam(0.01))
                .schedule(Schedule.cosine())
                .listener(new TrainingListener() {
                    @Override public void onEpochEnd(EpochStats s) { System.out.println(s); }
                })
                .build();
        trainer.fit(net, digits.train(), digits.test());

        float[] probabilities = net.predict(java.util.Arrays.copyOf(digits.test().features(), 64));
        ModelFile.save(net, Path.of("digits.safetensors"), Map.of());
        Network again = ModelFile.load(Path.of("digits.safetensors"));   // same outputs, bit for bit
        Evaluation e = Trainer.evaluate(again, digits.test());            // accuracy, loss, confusion matrix
        System.out.println(e);   // Evaluation[samples=359, loss=…, accuracy=…%, macroF1=…, confusion=[[…], …]]
        // README end
    }
}
