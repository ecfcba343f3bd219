package bp.data;

import it.unimi.dsi.fastutil.floats.FloatArrayList;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for comma-separated numbers, plain or gzip. An optional header line (recognised by a cell
 * that is not a number) is skipped; blank lines are skipped; every data row must have the width of
 * the first one. Cells are decimal numbers; NaN and infinities are rejected.
 */
public final class Csv {

    private Csv() {
    }

    /**
     * Reads a classification set: the label (a class index 0, 1, …) is in column {@code labelColumn}
     * (counting from 0; negative counts from the end, so -1 is the last), the rest are features.
     */
    public static Dataset readClassification(Path file, int labelColumn) {
        Table t = readTable(file);
        int label = labelColumn < 0 ? t.width + labelColumn : labelColumn;
        if (label < 0 || label >= t.width) {
            throw new DataException(file + ": label column " + labelColumn + " does not exist in rows of "
                    + t.width + " columns");
        }
        if (t.width < 2) {
            throw new DataException(file + ": expected at least 2 columns (features and a label), found " + t.width);
        }
        int featureCount = t.width - 1;
        float[] x = new float[t.rows * featureCount];
        int[] y = new int[t.rows];
        int classes = 0;
        for (int r = 0; r < t.rows; r++) {
            float v = t.values.getFloat(r * t.width + label);
            if (v < 0 || v != Math.rint(v) || v > 1_000_000) {
                throw new DataException(file + ": line " + t.lines.getInt(r) + ", column " + (label + 1)
                        + ": label '" + v + "' is not a class index (expected a whole number ≥ 0)");
            }
            y[r] = (int) v;
            classes = Math.max(classes, y[r] + 1);
            for (int c = 0, f = 0; c < t.width; c++) {
                if (c != label) {
                    x[r * featureCount + f++] = t.values.getFloat(r * t.width + c);
                }
            }
        }
        return Dataset.classification(file.getFileName().toString(), x, featureCount, y, Math.max(classes, 2));
    }

    /**
     * Reads a regression set: the last {@code targets} columns are real-valued targets, the others
     * features. Binary classification with one sigmoid output is this with one 0/1 target.
     */
    public static Dataset readRegression(Path file, int targets) {
        Table t = readTable(file);
        if (targets < 1 || t.width <= targets) {
            throw new DataException(file + ": expected more than " + targets + " columns (features, then "
                    + targets + " target" + (targets == 1 ? "" : "s") + "), found " + t.width);
        }
        int featureCount = t.width - targets;
        float[] x = new float[t.rows * featureCount];
        float[] y = new float[t.rows * targets];
        for (int r = 0; r < t.rows; r++) {
            for (int c = 0; c < featureCount; c++) {
                x[r * featureCount + c] = t.values.getFloat(r * t.width + c);
            }
            for (int c = 0; c < targets; c++) {
                y[r * targets + c] = t.values.getFloat(r * t.width + featureCount + c);
            }
        }
        return Dataset.regression(file.getFileName().toString(), x, featureCount, y, targets);
    }

    /** Reads rows of features only; each row must have {@code expectedWidth} columns. */
    public static float[] readFeatures(Path file, int expectedWidth) {
        Table t = readTable(file);
        if (t.width != expectedWidth) {
            throw new DataException(file + ": line " + t.lines.getInt(0) + ": expected " + expectedWidth
                    + " columns (the model's inputs), found " + t.width);
        }
        return t.values.toFloatArray();
    }

    /** The numbers of a CSV file, row by row, with the line number of each row. */
    record Table(FloatArrayList values, IntArrayList lines, int width, int rows) {
    }

    static Table readTable(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
            FloatArrayList values = new FloatArrayList();
            IntArrayList lines = new IntArrayList();
            int width = -1;
            int lineNo = 0;
            boolean headerAllowed = true;
            String line;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",", -1);
                if (headerAllowed && !isNumber(cells[0].trim())) {
                    headerAllowed = false;
                    continue;
                }
                headerAllowed = false;
                if (width < 0) {
                    width = cells.length;
                } else if (cells.length != width) {
                    throw new DataException(file + ": line " + lineNo + ": expected " + width
                            + " columns like the first row, found " + cells.length);
                }
                for (int c = 0; c < cells.length; c++) {
                    values.add(parseCell(file, lineNo, c, cells[c]));
                }
                lines.add(lineNo);
            }
            if (width < 0) {
                throw new DataException(file + ": " + (lineNo == 0 ? "empty file" : "no data rows")
                        + ", expected rows of comma-separated numbers");
            }
            return new Table(values, lines, width, lines.size());
        } catch (ZipException | java.io.EOFException e) {
            throw new DataException(file + ": truncated or corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new DataException(file + ": not UTF-8 text", e);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static float parseCell(Path file, int line, int column, String cell) {
        String s = cell.trim();
        if (!isNumber(s)) {
            throw new DataException(file + ": line " + line + ", column " + (column + 1) + ": '" + abbreviate(s)
                    + "' is not a number" + (s.isEmpty() ? " (empty cell)" : ""));
        }
        float v = Float.parseFloat(s);
        if (!Float.isFinite(v)) {
            throw new DataException(file + ": line " + line + ", column " + (column + 1) + ": '" + abbreviate(s)
                    + "' is out of float range");
        }
        return v;
    }

    /** A plain decimal number: sign, digits, optional fraction and exponent. No NaN, Infinity, hex or suffixes. */
    static boolean isNumber(String s) {
        int i = 0;
        int n = s.length();
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            i++;
        }
        int digits = 0;
        while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
            digits++;
        }
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
                digits++;
            }
        }
        if (digits == 0) {
            return false;
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int exp = 0;
            while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
                exp++;
            }
            if (exp == 0) {
                return false;
            }
        }
        return i == n;
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 37) + "..." : s;
    }
}
