package bp.cli;

import bp.io.AtomicFiles;
import com.fasterxml.jackson.jr.ob.JSON;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Learning curves from a {@code --metrics} file: loss (left) and accuracy (right) against the
 * epoch, for train, validation and test, drawn with Java2D into a PNG (no charting library: the
 * JDK draws lines well enough, and the jar stays lean). With several runs appended to the file,
 * the last one is drawn.
 */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draws learning curves (loss and accuracy per epoch; train, validation, test) from a "
                + "metrics file written by bp train --metrics, as a PNG.",
        footer = {"", "Example:", "  bp train --data digits --val-split 0.2 --metrics m.jsonl",
                "  bp plot m.jsonl --out curve.png"})
final class PlotCommand implements Runnable {

    @Parameters(index = "0", paramLabel = "METRICS.jsonl", description = "A file written by bp train --metrics.")
    Path metrics;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE.png", description = "The picture to write.")
    Path out;

    @Option(names = "--width", paramLabel = "N", defaultValue = "1000", description = "Width in pixels (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--height", paramLabel = "N", defaultValue = "420", description = "Height in pixels (default: ${DEFAULT-VALUE}).")
    int height;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private static final String[] SERIES = {"train", "val", "test"};
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c)};

    @Override
    public void run() {
        if (width < 300 || width > 10_000 || height < 200 || height > 10_000) {
            throw new Main.UsageError("--width must be 300..10000 and --height 200..10000 pixels");
        }
        TrainCommand.checkOutputFile("--out", out);
        List<Map<String, Object>> epochs = lastRun(read(metrics));
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        String title = String.valueOf(epochs.get(0).getOrDefault("run", metrics.getFileName()));
        g.setColor(Color.DARK_GRAY);
        g.drawString(title.length() > 140 ? title.substring(0, 140) + "…" : title, 10, 16);
        int half = width / 2;
        panel(g, epochs, "loss", 0, half, false);
        panel(g, epochs, "accuracy", half, width - half, true);
        g.dispose();
        AtomicFiles.write(out, o -> ImageIO.write(image, "png", o));
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s (%d epochs)%n", out, epochs.size());
        spec.commandLine().getOut().flush();
    }

    /** The lines of the file as JSON objects; a malformed one is an error naming its line. */
    static List<Map<String, Object>> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            Map<String, Object> row;
            try {
                row = JSON.std.mapFrom(lines.get(i));
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(file + ": line " + (i + 1) + " is not a JSON object");
            }
            if (!(row.get("epoch") instanceof Number)) {
                throw new IllegalArgumentException(file + ": line " + (i + 1) + " has no numeric \"epoch\"");
            }
            rows.add(row);
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(file + ": no epochs (expected lines written by bp train --metrics)");
        }
        return rows;
    }

    /** The rows of the last run: from the last line whose epoch is 1 (or does not follow its predecessor). */
    static List<Map<String, Object>> lastRun(List<Map<String, Object>> rows) {
        int start = 0;
        for (int i = 1; i < rows.size(); i++) {
            int epoch = ((Number) rows.get(i).get("epoch")).intValue();
            int previous = ((Number) rows.get(i - 1).get("epoch")).intValue();
            if (epoch <= previous) {
                start = i;
            }
        }
        return rows.subList(start, rows.size());
    }

    private void panel(Graphics2D g, List<Map<String, Object>> epochs, String what, int x0, int w, boolean percent) {
        Map<String, double[]> series = series(epochs, what, percent);
        Frame f = new Frame(x0 + 60, x0 + w - 20, 40, height - 45);
        g.setColor(Color.BLACK);
        g.drawRect(f.left, f.top, f.right - f.left, f.bottom - f.top);
        g.drawString(what + (percent ? " (%)" : "") + " per epoch", f.left, f.top - 8);
        if (series.isEmpty()) {
            g.drawString("no " + what + " in the file", f.left + 10, f.top + 20);
            return;
        }
        double[] range = range(series);
        axes(g, f, range, epochs, x0, percent);
        // curves of loss fall and of accuracy rise: the legend goes in the corner they leave free
        int legend = 0;
        int legendTop = percent ? f.bottom - 14 * series.size() - 4 : f.top + 16;
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            g.setColor(COLORS[java.util.Arrays.asList(SERIES).indexOf(e.getKey())]);
            curve(g, f, range, e.getValue());
            g.drawString(e.getKey(), f.right - 60, legendTop + 14 * legend++);
        }
    }

    /** Where a panel plots: its edges in pixels. */
    private record Frame(int left, int right, int top, int bottom) {
        int x(int i, int n) {
            return left + (n == 1 ? (right - left) / 2 : (int) Math.round((right - left) * (double) i / (n - 1)));
        }

        int y(double v, double[] range) {
            return bottom - (int) Math.round((bottom - top) * (v - range[0]) / (range[1] - range[0]));
        }
    }

    /** Each set's figure per epoch (in % when {@code percent}), for the sets the file has it for. */
    private static Map<String, double[]> series(List<Map<String, Object>> epochs, String what, boolean percent) {
        Map<String, double[]> series = new LinkedHashMap<>();
        for (String s : SERIES) {
            double[] ys = new double[epochs.size()];
            boolean any = false;
            for (int i = 0; i < ys.length; i++) {
                Object v = epochs.get(i).get(s + "_" + what);
                ys[i] = v instanceof Number n ? n.doubleValue() * (percent ? 100 : 1) : Double.NaN;
                any |= !Double.isNaN(ys[i]);
            }
            if (any) {
                series.put(s, ys);
            }
        }
        return series;
    }

    /** The lowest and highest value of all series, 5 % apart from the frame. */
    private static double[] range(Map<String, double[]> series) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double[] ys : series.values()) {
            for (double y : ys) {
                if (!Double.isNaN(y)) {
                    min = Math.min(min, y);
                    max = Math.max(max, y);
                }
            }
        }
        if (max - min < 1e-12) {
            max = min + 1;
        }
        double pad = (max - min) * 0.05;
        return new double[] {min - pad, max + pad};
    }

    /** Grid lines with their values, and the epochs along the bottom. */
    private static void axes(Graphics2D g, Frame f, double[] range, List<Map<String, Object>> epochs, int x0,
                             boolean percent) {
        for (int t = 0; t <= 4; t++) {
            double v = range[0] + (range[1] - range[0]) * t / 4;
            int y = f.bottom - (int) Math.round((f.bottom - f.top) * (double) t / 4);
            g.setColor(new Color(0xdddddd));
            g.drawLine(f.left + 1, y, f.right - 1, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, percent ? "%.1f" : "%.3f", v), x0 + 5, y + 4);
        }
        int n = epochs.size();
        for (int i = 0; i < n; i += Math.max(1, n / 10)) {
            g.drawString(String.valueOf(((Number) epochs.get(i).get("epoch")).intValue()), f.x(i, n) - 4, f.bottom + 16);
        }
        g.drawString("epoch", (f.left + f.right) / 2 - 15, f.bottom + 32);
    }

    /** One series as dots joined by lines, broken where a value is missing. */
    private static void curve(Graphics2D g, Frame f, double[] range, double[] ys) {
        g.setStroke(new BasicStroke(2f));
        int px = -1;
        int py = -1;
        for (int i = 0; i < ys.length; i++) {
            if (Double.isNaN(ys[i])) {
                px = -1;
                continue;
            }
            int x = f.x(i, ys.length);
            int y = f.y(ys[i], range);
            if (px >= 0) {
                g.drawLine(px, py, x, y);
            }
            g.fillOval(x - 3, y - 3, 6, 6);
            px = x;
            py = y;
        }
        g.setStroke(new BasicStroke(1f));
    }
}
