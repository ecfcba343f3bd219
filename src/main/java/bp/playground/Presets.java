package bp.playground;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** The ready-made problems of the page, as the JSON settings the page sends to reset a session. */
final class Presets {

    private Presets() {
    }

    /** Every preset by name, in menu order. */
    static Map<String, Map<String, Object>> all() {
        Map<String, Map<String, Object>> all = new LinkedHashMap<>();
        all.put("xor", truthTable(new int[] {0, 1, 1, 0}, List.of(4), "tanh", "adam", 0.05));
        all.put("and", truthTable(new int[] {0, 0, 0, 1}, List.of(), "sigmoid", "sgd", 0.5));
        all.put("or", truthTable(new int[] {0, 1, 1, 1}, List.of(), "sigmoid", "sgd", 0.5));
        all.put("circle", settings(List.of(6), "tanh", "ce", "adam", 0.03, 10, circle(), new double[] {-6, 6, -6, 6}));
        all.put("spirals", settings(List.of(12, 12, 12), "tanh", "ce", "adam", 0.01, 10, spirals(),
                new double[] {-6, 6, -6, 6}));
        all.put("worked-example", workedExample());
        return all;
    }

    static Map<String, Object> get(String name) {
        Map<String, Object> preset = all().get(name);
        if (preset == null) {
            throw new BadRequest("unknown preset '" + name + "' (expected one of " + all().keySet() + ")");
        }
        return preset;
    }

    /** The Boolean function with the given outputs for inputs 00, 01, 10, 11, on the unit square. */
    private static Map<String, Object> truthTable(int[] outputs, List<Integer> hidden, String activation,
                                                  String optimizer, double lr) {
        List<Map<String, Object>> points = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            points.add(point(i >> 1, i & 1, outputs[i]));
        }
        return settings(hidden, activation, "ce", optimizer, lr, 4, points, new double[] {-0.5, 1.5, -0.5, 1.5});
    }

    /** Green inside radius 2, red on the ring from 3.5 to 5: 60 points each. */
    private static List<Map<String, Object>> circle() {
        SplittableRandom rng = new SplittableRandom(1);
        List<Map<String, Object>> points = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            int label = i % 2;
            double r = label == 1 ? 2 * Math.sqrt(rng.nextDouble()) : rng.nextDouble(3.5, 5);
            double angle = rng.nextDouble(2 * Math.PI);
            points.add(point(round(r * Math.cos(angle)), round(r * Math.sin(angle)), label));
        }
        return points;
    }

    /** Two interleaved spirals of 80 points each, turning 1.75 times. */
    private static List<Map<String, Object>> spirals() {
        List<Map<String, Object>> points = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            double r = 5.0 * (i + 4) / 84;
            double angle = 1.75 * 2 * Math.PI * i / 80;
            points.add(point(round(r * Math.cos(angle)), round(r * Math.sin(angle)), 0));
            points.add(point(round(-r * Math.cos(angle)), round(-r * Math.sin(angle)), 1));
        }
        return points;
    }

    /**
     * The notes' 2-3-2 sigmoid network (DESIGN.md, "Golden values"): x = (5, 10), t = (0.01, 0.99)
     * (a green point with sse's targets), w1..w12 = 0.10 … 0.65, shared biases 0.35 and 0.65 frozen,
     * learning rate 0.5. One Step gives the weights the notes compute.
     */
    private static Map<String, Object> workedExample() {
        Map<String, Object> m = settings(List.of(3), "sigmoid", "sse", "sgd", 0.5, 1, List.of(point(5, 10, 1)),
                new double[] {-2, 12, -2, 12});
        m.put("freezeBiases", true);
        // layer 0: h1 = (w1, w2), h2 = (w3, w4), h3 = (w5, w6), b1 × 3; layer 1: o1 = (w7, w9, w11), o2 = (w8, w10, w12), b2 × 2
        m.put("parameters", List.of(0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.35, 0.35, 0.35,
                0.40, 0.50, 0.60, 0.45, 0.55, 0.65, 0.65, 0.65));
        return m;
    }

    private static Map<String, Object> settings(List<Integer> hidden, String activation, String loss, String optimizer,
                                                double lr, int batch, List<Map<String, Object>> points, double[] view) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hidden", hidden);
        m.put("activation", activation);
        m.put("loss", loss);
        m.put("optimizer", optimizer);
        m.put("lr", lr);
        m.put("batch", batch);
        m.put("seed", 1);
        m.put("points", points);
        m.put("view", List.of(view[0], view[1], view[2], view[3]));
        return m;
    }

    private static Map<String, Object> point(double x, double y, int label) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("x", x);
        p.put("y", y);
        p.put("label", label);
        return p;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
