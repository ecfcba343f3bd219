package bp.nn;

import bp.io.ModelFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerActivationTest {

    @Test
    void parsesParametersAndDefaults() {
        assertEquals(new LayerActivation(Activation.LEAKY_RELU, 0.2f), LayerActivation.parse("leaky_relu:0.2"));
        assertEquals(0.01f, LayerActivation.parse("leaky_relu").alpha());
        assertEquals(1f, LayerActivation.parse("ELU").alpha());
        assertEquals("elu:0.5", LayerActivation.parse("elu:0.5").label());
        assertEquals("leaky_relu", LayerActivation.parse("leaky_relu:0.01").label());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerActivation.parse("relu:0.2"))
                .getMessage().contains("takes no parameter"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerActivation.parse("leaky_relu:-1"))
                .getMessage().contains("positive"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerActivation.parse("elu:x"))
                .getMessage().contains("number"));
    }

    @Test
    void preluTakesAnyFiniteInitialSlopeAndMaxoutAWholeNumberOfPieces() {
        assertEquals(0.25f, LayerActivation.parse("prelu").alpha());
        assertEquals(-0.5f, LayerActivation.parse("prelu:-0.5").alpha());
        assertEquals("prelu:0.0", LayerActivation.parse("prelu:0").label());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerActivation.parse("prelu:NaN"))
                .getMessage().contains("finite"));
        assertEquals(2, LayerActivation.parse("maxout").pieces());
        assertEquals(3, LayerActivation.parse("maxout:3").pieces());
        assertEquals("maxout:3", LayerActivation.parse("maxout:3").label());
        assertEquals("maxout", LayerActivation.parse("maxout:2.0").label());
        assertEquals(1, LayerActivation.parse("prelu").pieces());
        for (String bad : new String[] {"maxout:1", "maxout:2.5", "maxout:65", "maxout:-3"}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerActivation.parse(bad))
                    .getMessage().contains("whole number in 2..64"), bad);
        }
    }

    @Test
    void gradientsWithNonDefaultParameters() {
        for (String hidden : new String[] {"leaky_relu:0.2", "elu:0.5", "elu:2"}) {
            Network net = Network.builder(5).dense(7, LayerActivation.parse(hidden)).dense(6, LayerActivation.parse(hidden))
                    .dense(3, Activation.SOFTMAX).loss(Loss.CROSS_ENTROPY).seed(4).build();
            GradientCheck.Result r = GradientCheck.run(net, 4, 7);
            assertTrue(r.referenceVsFiniteDifferences() < GradientCheckTest.REFERENCE_LIMIT, hidden + ": " + r);
            assertTrue(r.engineVsReference() < GradientCheckTest.ENGINE_LIMIT, hidden + ": " + r);
        }
    }

    @Test
    void theParameterChangesTheOutputAndSurvivesTheModelFile(@TempDir Path dir) {
        Network steep = Network.builder(3).dense(4, LayerActivation.parse("leaky_relu:0.3")).dense(2, Activation.IDENTITY)
                .seed(2).build();
        Network flat = Network.builder(3).dense(4, Activation.LEAKY_RELU).dense(2, Activation.IDENTITY).seed(2).build();
        float[] x = {-1f, -2f, -3f};
        assertTrue(steep.describe().contains("4:leaky_relu:0.3"), steep.describe());
        assertTrue(steep.predict(x)[0] != flat.predict(x)[0]);
        Path file = dir.resolve("steep.safetensors");
        ModelFile.save(steep, file, Map.of());
        Network loaded = ModelFile.load(file);
        assertEquals(0.3f, loaded.alpha(0));
        assertArrayEquals(steep.predict(x), loaded.predict(x));
    }
}
