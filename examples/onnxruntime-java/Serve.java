import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Runs a model exported by {@code bp export} in ONNX Runtime: {@code java -cp onnxruntime.jar
 * Serve.java MODEL.onnx ROWS.csv} prints one line of outputs per row of features.
 */
public class Serve {
    public static void main(String[] args) throws Exception {
        float[][] rows = Files.readAllLines(Path.of(args[1])).stream().filter(line -> !line.isBlank())
                .map(line -> {
                    String[] cells = line.split(",");
                    float[] row = new float[cells.length];
                    for (int i = 0; i < row.length; i++) {
                        row[i] = Float.parseFloat(cells[i]);
                    }
                    return row;
                }).toArray(float[][]::new);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(args[0], new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, rows);
             OrtSession.Result result = session.run(Map.of("input", input))) {
            float[][] outputs = (float[][]) result.get("output").orElseThrow().getValue();
            for (float[] out : outputs) {
                System.out.println(String.join(",", Arrays.stream(toObjects(out)).map(String::valueOf).toList()));
            }
        }
    }

    private static Float[] toObjects(float[] v) {
        Float[] boxed = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            boxed[i] = v[i];
        }
        return boxed;
    }
}
