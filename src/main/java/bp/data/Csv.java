package bp.data;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for delimited text, plain or gzip: comma-, semicolon- or tab-separated (detected from the
 * first line, or given). An optional header line is skipped (recognised by having no number
 * outside the label column); blank lines are skipped; every data row must have the width of
 * the first one. Feature cells are decimal numbers (NaN and infinities are rejected); class labels
 * are whole numbers 0, 1, … or names such as {@code cat}, {@code dog}.
 */
public final class Csv {

    private Csv() {
    }

    /**
     * How to read a file: {@code delimiter} ',' ';' or '\t' ({@code '\0'} detects it from the first
     * line) and the label column, a header name or an index counting from 0 (negative from the end,
     * -1 the last; {@code null} is the last).
     *
     * @param delimiter the cell delimiter, or {@code '\0'} to detect it from the first line
     * @param labelColumn the label column as a header name or an index, or {@code null} for the last
     */
    public record Format(char delimiter, String labelColumn) {

        public static final Format DEFAULT = new Format('\0', null);

        /** Checks that the delimiter is comma, semicolon, tab or {@code '\0'} (detect). */
        public Format {
            if ("\0,;\t".indexOf(delimiter) < 0) {
                throw new IllegalArgumentException("delimiter '" + delimiter + "': expected comma, semicolon or tab");
            }
        }

        /**
         * Parses {@code comma}, {@code semicolon}, {@code tab} or the character itself; {@code null} detects.
         *
         * @param delimiter {@code comma}, {@code semicolon}, {@code tab}, one character, or {@code null} to detect it
         * @param labelColumn a header name or an index, or {@code null} for the last
         * @return the format
         */
        public static Format of(String delimiter, String labelColumn) {
            char d = delimiter == null ? '\0' : switch (delimiter.toLowerCase(java.util.Locale.ROOT)) {
                case "comma", "," -> ',';
                case "semicolon", ";" -> ';';
                case "tab", "\t", "\\t" -> '\t';
                default -> throw new IllegalArgumentException("--delimiter '" + delimiter
                        + "': expected comma, semicolon or tab");
            };
            return new Format(d, labelColumn);
        }
    }

    /**
     * Reads a classification set: the label is in column {@code labelColumn} (counting from 0;
     * negative counts from the end, so -1 is the last), the rest are features.
     *
     * @param file a CSV file, plain or gzip-compressed
     * @param labelColumn the label column's index
     * @return the rows as features and one-hot targets
     */
    public static Dataset readClassification(Path file, int labelColumn) {
        return readClassification(file, new Format('\0', String.valueOf(labelColumn)), null);
    }

    /**
     * Reads a classification set. Labels that are all whole numbers are class indices; otherwise
     * they are class names, numbered in sorted order (kept in {@link Dataset#classNames()}).
     * With {@code classNames} (a model's), each label must be one of them.
     *
     * @param file a CSV file, plain or gzip-compressed
     * @param format its delimiter and label column
     * @param classNames the class names the labels must be among, or {@code null} to take them from the file
     * @return the rows as features and one-hot targets
     */
    public static Dataset readClassification(Path file, Format format, List<String> classNames) {
        Table t = readTable(file, format, true);
        if (t.width < 2) {
            throw new DataException(file + ": expected at least 2 columns (features and a label), found " + t.width);
        }
        int featureCount = t.width - 1;
        int[] y = new int[t.rows];
        List<String> names = classNames != null ? classNames : namesOf(t.labels);
        if (classNames == null && names != null && names.size() < 2) {
            throw new DataException(file + ": every label is '" + abbreviate(names.get(0))
                    + "'; classification needs at least two classes");
        }
        Map<String, Integer> index = new HashMap<>();
        if (names != null) {
            for (int c = 0; c < names.size(); c++) {
                index.put(names.get(c), c);
            }
        }
        int classes = names != null ? names.size() : 0;
        for (int r = 0; r < t.rows; r++) {
            String cell = t.labels.get(r);
            if (names != null) {
                Integer c = index.get(cell);
                if (c == null) {
                    throw new DataException(file + ": line " + t.lines[r] + ", column " + (t.labelIndex + 1)
                            + ": label '" + abbreviate(cell) + "' is not one of the model's classes "
                            + abbreviate(String.valueOf(names)));
                }
                y[r] = c;
                continue;
            }
            float v = parseCell(file, t.lines[r], t.labelIndex, cell);
            if (v < 0 || v != Math.rint(v) || v > 1_000_000) {
                throw new DataException(file + ": line " + t.lines[r] + ", column " + (t.labelIndex + 1)
                        + ": label '" + v + "' is not a class index (expected a whole number ≥ 0, or a class name; "
                        + "for real-valued targets use --targets)");
            }
            y[r] = (int) v;
            classes = Math.max(classes, y[r] + 1);
        }
        Dataset d = Dataset.classification(file.getFileName().toString(), t.values, featureCount, y,
                Math.max(classes, 2));
        return names == null ? d : d.withClassNames(names);
    }

    /** The sorted distinct labels when any of them is not a number; {@code null} for numeric labels. */
    private static List<String> namesOf(List<String> labels) {
        if (labels.stream().allMatch(Csv::isNumber)) {
            return null;
        }
        List<String> names = new ArrayList<>(new TreeSet<>(labels));
        if (names.size() > 1_000_000) {
            throw new DataException("more than a million class names");
        }
        return names;
    }

    /**
     * Reads a regression set: the last {@code targets} columns are real-valued targets, the others
     * features. Binary classification with one sigmoid output is this with one 0/1 target.
     *
     * @param file a CSV file, plain or gzip-compressed
     * @param targets how many of the last columns are targets
     * @return the rows as features and targets
     */
    public static Dataset readRegression(Path file, int targets) {
        return readRegression(file, targets, Format.DEFAULT);
    }

    /**
     * As {@link #readRegression(Path, int)}, in the given format (its label column is not used).
     *
     * @param file a CSV file, plain or gzip-compressed
     * @param targets how many of the last columns are targets
     * @param format its delimiter
     * @return the rows as features and targets
     */
    public static Dataset readRegression(Path file, int targets, Format format) {
        Table t = readTable(file, format, false);
        if (targets < 1 || t.width <= targets) {
            throw new DataException(file + ": expected more than " + targets + " columns (features, then "
                    + targets + " target" + (targets == 1 ? "" : "s") + "), found " + t.width);
        }
        int featureCount = t.width - targets;
        float[] x = new float[t.rows * featureCount];
        float[] y = new float[t.rows * targets];
        for (int r = 0; r < t.rows; r++) {
            for (int c = 0; c < featureCount; c++) {
                x[r * featureCount + c] = t.values[r * t.width + c];
            }
            for (int c = 0; c < targets; c++) {
                y[r * targets + c] = t.values[r * t.width + featureCount + c];
            }
        }
        return Dataset.regression(file.getFileName().toString(), x, featureCount, y, targets);
    }

    /**
     * Reads rows of features only; each row must have {@code expectedWidth} columns.
     *
     * @param file a CSV file, plain or gzip-compressed
     * @param expectedWidth the columns every row must have
     * @return the rows one after another
     */
    public static float[] readFeatures(Path file, int expectedWidth) {
        Table t = readTable(file, Format.DEFAULT, false);
        if (t.width != expectedWidth) {
            throw new DataException(file + ": line " + t.lines[0] + ": expected " + expectedWidth
                    + " columns (the model's inputs), found " + t.width);
        }
        return t.values;
    }

    /**
     * A model's inputs read from a file, and the labels when the file had them (else {@code null}).
     *
     * @param features the rows' features one after another
     * @param rows how many rows were read
     * @param labels the labels, one per row, or {@code null}
     */
    public record Inputs(float[] features, int rows, List<String> labels) {
    }

    /**
     * Reads {@code inputs} features per row for a model, from a file of just those columns or from
     * a file like its training data: {@code inputs + 1} columns with the label in the format's
     * label column, or {@code inputs + targets} with real-valued targets last.
     *
     * @param file a CSV file, plain or gzip-compressed
     * @param format its delimiter and label column
     * @param inputs the model's inputs
     * @param targets the model's real-valued outputs (0 for a classifier)
     * @return the features, and the labels or targets as text when the file had them
     */
    public static Inputs readInputs(Path file, Format format, int inputs, int targets) {
        int width = width(file, format);
        if (width == inputs) {
            Table t = readTable(file, format, false);
            return new Inputs(t.values, t.rows, null);
        }
        if (targets == 0 && width == inputs + 1) {
            Table t = readTable(file, format, true);
            return new Inputs(t.values, t.rows, t.labels);
        }
        if (targets > 0 && width == inputs + targets) {
            Dataset d = readRegression(file, targets, format);
            List<String> values = new ArrayList<>();
            for (float v : d.targets()) {
                values.add(Float.toString(v));
            }
            return new Inputs(d.features(), d.size(), values);
        }
        throw new DataException(file + ": the model takes " + inputs + " inputs, the file has " + width
                + " columns (expected " + inputs + ", or " + (inputs + Math.max(targets, 1)) + " with the "
                + (targets > 0 ? "targets" : "label") + ")");
    }

    /** The number of cells in the first line that is not blank (a header or a row). */
    private static int width(Path file, Format format) {
        return readTable(file, format, false, true).width;
    }

    /** Rows of values (the label column left out) one after another, and the line each row came from. */
    record Table(float[] values, List<String> labels, int[] lines, int width, int rows, int labelIndex) {
    }

    static Table readTable(Path file, Format format, boolean labelled) {
        return readTable(file, format, labelled, false);
    }

    /** With {@code widthOnly}, stops at the first line that is not blank, and returns just its width. */
    private static Table readTable(Path file, Format format, boolean labelled, boolean widthOnly) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
            List<float[]> rows = new ArrayList<>();
            List<String> labels = labelled ? new ArrayList<>() : null;
            IntStream.Builder lines = IntStream.builder();
            String delimiter = null;
            int width = -1;
            int label = -1;
            int lineNo = 0;
            String line;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                if (delimiter == null) {
                    delimiter = Pattern.quote(String.valueOf(format.delimiter() != '\0' ? format.delimiter()
                            : detectDelimiter(line)));
                }
                String[] cells = line.split(delimiter, -1);
                if (width < 0) {
                    width = cells.length;
                    if (widthOnly) {
                        return new Table(new float[0], labels, new int[0], width, 0, -1);
                    }
                    boolean byName = labelled && !isIndex(format.labelColumn());
                    label = labelled && !byName ? labelIndex(file, format, width) : -1;
                    if (byName || isHeader(cells, label)) {
                        label = byName ? headerIndex(file, format, cells) : label;
                        continue;
                    }
                } else if (cells.length != width) {
                    throw new DataException(file + ": line " + lineNo + ": expected " + width
                            + " columns like the first row, found " + cells.length
                            + (cells.length == 1 && width > 1 ? " (another delimiter?)" : ""));
                }
                float[] row = new float[label >= 0 ? width - 1 : width];
                for (int c = 0, v = 0; c < cells.length; c++) {
                    if (c == label) {
                        labels.add(cells[c].trim());
                    } else {
                        row[v++] = parseCell(file, lineNo, c, cells[c]);
                    }
                }
                rows.add(row);
                lines.add(lineNo);
            }
            if (rows.isEmpty()) {
                throw new DataException(file + ": " + (lineNo == 0 ? "empty file" : "no data rows")
                        + ", expected rows of comma-, semicolon- or tab-separated numbers");
            }
            return new Table(concatenate(rows), labels, lines.build().toArray(), width, rows.size(), label);
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

    private static float[] concatenate(List<float[]> rows) {
        float[] all = new float[rows.size() * rows.get(0).length];
        int at = 0;
        for (float[] row : rows) {
            System.arraycopy(row, 0, all, at, row.length);
            at += row.length;
        }
        return all;
    }

    /** The most frequent of comma, semicolon and tab in the first line (comma when none occurs). */
    static char detectDelimiter(String line) {
        char best = ',';
        long most = line.chars().filter(ch -> ch == ',').count();
        for (char d : new char[] {';', '\t'}) {
            long n = line.chars().filter(ch -> ch == d).count();
            if (n > most) {
                best = d;
                most = n;
            }
        }
        return best;
    }

    /** A header has no number outside the label column (a data row may have a name there). */
    private static boolean isHeader(String[] cells, int label) {
        boolean any = false;
        for (int c = 0; c < cells.length; c++) {
            if (c != label) {
                if (isNumber(cells[c].trim())) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    private static boolean isIndex(String labelColumn) {
        return labelColumn == null || labelColumn.trim().matches("[+-]?\\d+");
    }

    /** The label column of rows {@code width} wide, from an index (negative from the end) or the last. */
    private static int labelIndex(Path file, Format format, int width) {
        long given = format.labelColumn() == null ? -1 : Long.parseLong(format.labelColumn().trim().replace("+", ""));
        long index = given < 0 ? width + given : given;
        if (index < 0 || index >= width) {
            throw new DataException(file + ": label column " + given + " does not exist in rows of " + width + " columns");
        }
        return (int) index;
    }

    private static int headerIndex(Path file, Format format, String[] header) {
        for (int c = 0; c < header.length; c++) {
            if (header[c].trim().equals(format.labelColumn().trim())) {
                return c;
            }
        }
        throw new DataException(file + ": no column named '" + abbreviate(format.labelColumn()) + "' in the header "
                + abbreviate(String.join(",", header)));
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
