package bp.playground;

import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.train.Optimizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A playground network and its training settings, parsed from the page's JSON and checked
 * against the limits that keep the server responsive. Every problem is a {@link BadRequest}
 * naming the field, thrown before anything changes.
 */
record Config(List<Integer> hidden, LayerActivation activation, Loss loss, String optimizer, double lr, int batch,
              long seed, boolean freezeBiases, List<Point> points, double[] view, float[] parameters) {

    static final int MAX_POINTS = 500;
    static final int MAX_HIDDEN_LAYERS = 6;
    static final int MAX_UNITS = 16;
    static final double MAX_COORDINATE = 1e3;
    private static final Set<String> FIELDS = Set.of("hidden", "activation", "loss", "optimizer", "lr", "batch",
            "seed", "freezeBiases", "points", "view", "parameters");

    /** A point of the plane and its class, 0 (red) or 1 (green). */
    record Point(double x, double y, int label) {
        Map<String, Object> toJson() {
            return Map.of("x", x, "y", y, "label", label);
        }
    }

    /** The settings of a fresh session: XOR on a 2-4-2 tanh network. */
    static Config initial() {
        return parse(Presets.get("xor"));
    }

    /** The output layer's width: one sigmoid for bce, two (softmax or sigmoid) otherwise. */
    int outputs() {
        return loss == Loss.BINARY_CROSS_ENTROPY ? 1 : 2;
    }

    static Config parse(Object json) {
        if (!(json instanceof Map<?, ?> map)) {
            throw new BadRequest("expected a JSON object with the network settings");
        }
        for (Object key : map.keySet()) {
            if (!FIELDS.contains(String.valueOf(key))) {
                throw new BadRequest("unknown field '" + key + "' (expected some of " + FIELDS + ")");
            }
        }
        List<Integer> hidden = new ArrayList<>();
        Object h = map.get("hidden");
        if (!(h instanceof List<?> list) || list.size() > MAX_HIDDEN_LAYERS) {
            throw new BadRequest("hidden: expected a list of at most " + MAX_HIDDEN_LAYERS + " layer widths");
        }
        for (Object w : list) {
            hidden.add(integer("hidden", w, 1, MAX_UNITS));
        }
        LayerActivation activation;
        Loss loss;
        try {
            activation = LayerActivation.parse(string(map, "activation"));
            loss = Loss.parse(string(map, "loss"));
            if (activation.kind() == bp.nn.Activation.SOFTMAX) {
                throw new IllegalArgumentException("softmax is for the output layer only");
            }
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
        if (loss == Loss.MAE) {
            throw new BadRequest("loss: expected ce, bce, sse or mse");
        }
        String optimizer = string(map, "optimizer").toLowerCase(Locale.ROOT);
        double lr = number("lr", map.get("lr"), 1e-6, 10);
        try {
            Optimizer.parse(optimizer, lr);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("optimizer: " + e.getMessage());
        }
        int batch = integer("batch", map.get("batch"), 1, MAX_POINTS);
        long seed = map.containsKey("seed") ? integer("seed", map.get("seed"), 0, Integer.MAX_VALUE) : 1;
        boolean freeze = Boolean.TRUE.equals(map.get("freezeBiases"));
        if (map.containsKey("freezeBiases") && !(map.get("freezeBiases") instanceof Boolean)) {
            throw new BadRequest("freezeBiases: expected true or false");
        }
        double[] view = map.containsKey("view") ? view(map.get("view")) : new double[] {-6, 6, -6, 6};
        float[] parameters = map.containsKey("parameters") ? parameters(map.get("parameters")) : null;
        return new Config(List.copyOf(hidden), activation, loss, optimizer, lr, batch, seed, freeze,
                points(map.get("points")), view, parameters);
    }

    /** The points of a JSON list of {@code {"x", "y", "label"}} objects. */
    static List<Point> points(Object json) {
        if (!(json instanceof List<?> list) || list.size() > MAX_POINTS) {
            throw new BadRequest("points: expected a list of at most " + MAX_POINTS + " {x, y, label} objects");
        }
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> p) || p.size() != 3) {
                throw new BadRequest("points[" + i + "]: expected an object with x, y and label");
            }
            points.add(new Point(number("points[" + i + "].x", p.get("x"), -MAX_COORDINATE, MAX_COORDINATE),
                    number("points[" + i + "].y", p.get("y"), -MAX_COORDINATE, MAX_COORDINATE),
                    integer("points[" + i + "].label", p.get("label"), 0, 1)));
        }
        return List.copyOf(points);
    }

    /** Back to JSON, as the page sends it. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hidden", hidden);
        m.put("activation", activation.label());
        m.put("loss", loss.label());
        m.put("optimizer", optimizer);
        m.put("lr", lr);
        m.put("batch", batch);
        m.put("seed", seed);
        m.put("freezeBiases", freezeBiases);
        m.put("view", List.of(view[0], view[1], view[2], view[3]));
        return m;
    }

    Config withPoints(List<Point> newPoints) {
        return new Config(hidden, activation, loss, optimizer, lr, batch, seed, freezeBiases, newPoints, view, null);
    }

    private static double[] view(Object json) {
        if (!(json instanceof List<?> list) || list.size() != 4) {
            throw new BadRequest("view: expected [xMin, xMax, yMin, yMax]");
        }
        double[] v = new double[4];
        for (int i = 0; i < 4; i++) {
            v[i] = number("view[" + i + "]", list.get(i), -MAX_COORDINATE, MAX_COORDINATE);
        }
        if (!(v[0] < v[1] && v[2] < v[3])) {
            throw new BadRequest("view: expected xMin < xMax and yMin < yMax, got " + list);
        }
        return v;
    }

    private static float[] parameters(Object json) {
        if (!(json instanceof List<?> list) || list.size() > 10_000) {
            throw new BadRequest("parameters: expected a list of numbers");
        }
        float[] p = new float[list.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) number("parameters[" + i + "]", list.get(i), -1e6, 1e6);
        }
        return p;
    }

    private static String string(Map<?, ?> map, String field) {
        if (!(map.get(field) instanceof String s)) {
            throw new BadRequest(field + ": expected a string");
        }
        return s;
    }

    private static double number(String name, Object value, double min, double max) {
        if (!(value instanceof Number n) || !(n.doubleValue() >= min && n.doubleValue() <= max)) {
            throw new BadRequest(name + ": expected a number in [" + min + ", " + max + "], got " + value);
        }
        return n.doubleValue();
    }

    private static int integer(String name, Object value, int min, int max) {
        if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                || !(n.doubleValue() >= min && n.doubleValue() <= max)) {
            throw new BadRequest(name + ": expected a whole number in " + min + ".." + max + ", got " + value);
        }
        return n.intValue();
    }
}
