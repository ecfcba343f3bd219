package bp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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

    @Test
    void delimitersAreDetectedOrGiven() throws IOException {
        for (String sep : new String[] {";", "\t", ","}) {
            Dataset d = Csv.readClassification(write("a" + sep + "b" + sep + "y\n0,5" .replace(",", ".") + sep + "1" + sep
                    + "0\n2" + sep + "3" + sep + "1\n"), Csv.Format.DEFAULT, null);
            assertArrayEquals(new float[] {0.5f, 1, 2, 3}, d.features(), "delimiter '" + sep + "'");
        }
        Path semicolons = write("1;2;0\n3;4;1\n");
        Dataset given = Csv.readClassification(semicolons, Csv.Format.of("semicolon", null), null);
        assertEquals(2, given.size());
        String m = assertThrows(DataException.class,
                () -> Csv.readClassification(semicolons, Csv.Format.of("comma", null), null)).getMessage();
        assertTrue(m.contains("expected at least 2 columns"), m);
        assertThrows(IllegalArgumentException.class, () -> Csv.Format.of("pipe", null));
    }

    @Test
    void classNamesAnywhereByNameOrIndex() throws IOException {
        Path p = write("species,len,width\ndog,1,2\ncat,3,4\nbird,5,6\ncat,7,8\n");
        Dataset d = Csv.readClassification(p, Csv.Format.of(null, "species"), null);
        assertEquals(List.of("bird", "cat", "dog"), d.classNames());
        assertEquals(3, d.classCount());
        assertEquals(2, d.label(0));
        assertEquals(1, d.label(1));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, d.features());
        Dataset byIndex = Csv.readClassification(write("dog,1,2\ncat,3,4\n"), Csv.Format.of(null, "0"), null);
        assertEquals(List.of("cat", "dog"), byIndex.classNames());
        assertEquals(2, byIndex.featureCount());
        // a model's names: the same numbering, whatever the file holds
        Dataset known = Csv.readClassification(write("5,6,cat\n"), Csv.Format.DEFAULT, List.of("bird", "cat", "dog"));
        assertEquals(1, known.label(0));
        assertEquals(3, known.classCount());
        String unknown = assertThrows(DataException.class, () -> Csv.readClassification(write("5,6,cow\n"),
                Csv.Format.DEFAULT, List.of("bird", "cat", "dog"))).getMessage();
        assertTrue(unknown.endsWith("line 1, column 3: label 'cow' is not one of the model's classes [bird, cat, dog]"),
                unknown);
        Path again = write("species,len,width\ndog,1,2\ncat,3,4\n");
        String noColumn = assertThrows(DataException.class,
                () -> Csv.readClassification(again, Csv.Format.of(null, "kind"), null)).getMessage();
        assertTrue(noColumn.endsWith("no column named 'kind' in the header species,len,width"), noColumn);
        String one = assertThrows(DataException.class,
                () -> Csv.readClassification(write("1,2,cat\n3,4,cat\n"), Csv.Format.DEFAULT, null)).getMessage();
        assertTrue(one.contains("every label is 'cat'; classification needs at least two classes"), one);
    }

    @Test
    void inputsForAModelWithOrWithoutTheLabel() throws IOException {
        Csv.Inputs plain = Csv.readInputs(write("1,2\n3,4\n"), Csv.Format.DEFAULT, 2, 0);
        assertArrayEquals(new float[] {1, 2, 3, 4}, plain.features());
        assertEquals(null, plain.labels());
        Csv.Inputs labelled = Csv.readInputs(write("x,y,kind\n1,2,cat\n3,4,dog\n"), Csv.Format.DEFAULT, 2, 0);
        assertArrayEquals(new float[] {1, 2, 3, 4}, labelled.features());
        assertEquals(List.of("cat", "dog"), labelled.labels());
        Csv.Inputs targets = Csv.readInputs(write("1;2;0.5;7\n"), Csv.Format.DEFAULT, 2, 2);
        assertEquals(List.of("0.5", "7.0"), targets.labels());
        String m = assertThrows(DataException.class,
                () -> Csv.readInputs(write("1,2,3,4\n"), Csv.Format.DEFAULT, 2, 0)).getMessage();
        assertTrue(m.endsWith("the model takes 2 inputs, the file has 4 columns (expected 2, or 3 with the label)"), m);
    }
}
