package bp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CsvTest {

    @TempDir
    Path dir;

    Path write(String content) throws IOException {
        Path p = dir.resolve("f.csv");
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    String error(String content) throws IOException {
        Path p = write(content);
        return assertThrows(DataException.class, () -> Csv.readClassification(p, -1)).getMessage();
    }

    @Test
    void readsHeaderBlankLinesAndLabelColumn() throws IOException {
        Dataset d = Csv.readClassification(write("a,b,label\n0.5, -1e-1 ,2\n\n3,4,0\r\n"), -1);
        assertEquals(2, d.size());
        assertEquals(2, d.featureCount());
        assertEquals(3, d.classCount());
        assertArrayEquals(new float[] {0.5f, -0.1f, 3f, 4f}, d.features());
        assertEquals(2, d.label(0));
        Dataset first = Csv.readClassification(write("1,7,8\n0,9,9\n"), 0);
        assertArrayEquals(new float[] {7, 8, 9, 9}, first.features());
        assertEquals(1, first.label(0));
    }

    @Test
    void readsTheBundledDigits() {
        DataSources.TrainTest d = DataSources.digits();
        assertEquals(1797, d.train().size() + d.test().size());
        assertEquals(64, d.train().featureCount());
        assertEquals(10, d.train().classCount());
        for (float v : d.train().features()) {
            assertTrue(v >= 0 && v <= 1);
        }
    }

    @Test
    void numberSyntax() {
        for (String ok : new String[] {"0", "-1", "+2.5", ".5", "5.", "1e3", "1E-3", "007"}) {
            assertTrue(Csv.isNumber(ok), ok);
        }
        for (String bad : new String[] {"", "-", ".", "1e", "NaN", "Infinity", "0x10", "1.5f", "1,5", "a", "1 2", "e5"}) {
            assertFalse(Csv.isNumber(bad), bad);
        }
    }

    @Test
    void emptyFile() throws IOException {
        assertTrue(error("").contains("f.csv: empty file"));
    }

    @Test
    void headerOnly() throws IOException {
        assertTrue(error("a,b\n").contains("no data rows"));
    }

    @Test
    void raggedRow() throws IOException {
        String m = error("1,2,0\n3,4,1\n5,1\n");
        assertTrue(m.endsWith("f.csv: line 3: expected 3 columns like the first row, found 2"), m);
    }

    @Test
    void nonNumericCell() throws IOException {
        String m = error("1,2,0\n3,x4,1\n");
        assertTrue(m.endsWith("line 2, column 2: 'x4' is not a number"), m);
        assertTrue(error("1,,0\n").contains("line 1, column 2: '' is not a number (empty cell)"));
    }

    @Test
    void nanAndInfinity() throws IOException {
        assertTrue(error("1,NaN,0\n").contains("line 1, column 2: 'NaN' is not a number"));
        assertTrue(error("1,2,0\nInfinity,2,0\n").contains("line 2, column 1: 'Infinity' is not a number"));
        assertTrue(error("1,2,0\n1e39,2,0\n").contains("line 2, column 1: '1e39' is out of float range"));
    }

    @Test
    void badLabels() throws IOException {
        assertTrue(error("1,2,1.5\n").contains("line 1, column 3: label '1.5' is not a class index"));
        assertTrue(error("1,2,-1\n").contains("label '-1.0' is not a class index"));
    }

    @Test
    void featuresOnlyWidth() throws IOException {
        Path p = write("1,2,3\n");
        assertArrayEquals(new float[] {1, 2, 3}, Csv.readFeatures(p, 3));
        String m = assertThrows(DataException.class, () -> Csv.readFeatures(p, 4)).getMessage();
        assertTrue(m.endsWith("line 1: expected 4 columns (the model's inputs), found 3"), m);
    }

    @Test
    void truncatedGzip() throws IOException {
        byte[] gz = Files.readAllBytes(Path.of("data/digits/digits.csv.gz"));
        Path p = dir.resolve("cut.csv.gz");
        Files.write(p, java.util.Arrays.copyOf(gz, gz.length / 2));
        String m = assertThrows(DataException.class, () -> Csv.readClassification(p, -1)).getMessage();
        assertTrue(m.contains("cut.csv.gz: truncated or corrupt gzip data"), m);
    }
}
