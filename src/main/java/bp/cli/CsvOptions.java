package bp.cli;

import bp.data.Csv;
import picocli.CommandLine.Option;

import java.util.Map;

/** How CSV files are read: the label column and the delimiter, given or as a model was trained. */
final class CsvOptions {

    @Option(names = "--label-column", paramLabel = "NAME|INDEX",
            description = "CSV: the column of class labels, by header name or index from 0 (negative from the end; "
                    + "default: the last). Labels are class indices 0, 1, … or names such as cat, dog.")
    String labelColumn;

    @Option(names = "--delimiter", paramLabel = "comma|semicolon|tab",
            description = "CSV: the cell delimiter (default: detected from the first line).")
    String delimiter;

    /** The format from these options, else from a model's data description ({@code model}, may be empty). */
    Csv.Format format(Map<String, Object> model) {
        String d = delimiter != null ? delimiter : model.get("delimiter") instanceof String s ? s : null;
        String label = labelColumn != null ? labelColumn : model.get("label_column") instanceof String s ? s : null;
        try {
            return Csv.Format.of(d, label);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /** What a model keeps of these options. */
    void describe(Map<String, Object> d) {
        if (labelColumn != null) {
            d.put("label_column", labelColumn);
        }
        if (delimiter != null) {
            d.put("delimiter", delimiter);
        }
    }
}
