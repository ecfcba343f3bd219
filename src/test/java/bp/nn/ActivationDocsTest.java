package bp.nn;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's table of activations names every activation, with its parameter where it has one. */
class ActivationDocsTest {

    @Test
    void theReadmeTableHasEveryActivation() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("### Activations");
        String section = readme.substring(start, readme.indexOf("\n#", start + 1));
        for (Activation a : Activation.values()) {
            String name = "`" + a.label() + (a.hasAlpha() ? "[:" : "`");
            assertTrue(section.lines().anyMatch(l -> l.startsWith("| ") && l.contains(name)),
                    "the README's table of activations lacks " + a.label() + " (as " + name + ")");
        }
    }
}
