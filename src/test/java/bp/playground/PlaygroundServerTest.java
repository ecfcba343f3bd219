package bp.playground;

import com.fasterxml.jackson.jr.ob.JSON;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The playground's HTTP API on a real server: training, the worked example, and every refused request. */
class PlaygroundServerTest {

    static PlaygroundServer server;

    record Response(int status, String body) {
        @SuppressWarnings("unchecked")
        Map<String, Object> json() throws IOException {
            return (Map<String, Object>) JSON.std.anyFrom(body);
        }
    }

    @BeforeAll
    static void start() throws IOException {
        server = PlaygroundServer.start(0);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Response call(String method, String path, String body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(server.url() + path.substring(1)).toURL().openConnection();
        c.setRequestMethod(method);
        if (body != null) {
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "application/json");
            try (OutputStream out = c.getOutputStream()) {
                out.write(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        int status = c.getResponseCode();
        try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
            return new Response(status, in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static String newSession() throws IOException {
        Response r = call("POST", "/api/sessions", null);
        assertEquals(200, r.status(), r.body());
        return (String) r.json().get("id");
    }

    static Map<String, Object> ok(Response r) throws IOException {
        assertEquals(200, r.status(), r.body());
        return r.json();
    }

    static String preset(String name) throws IOException {
        return JSON.std.asString(ok(call("GET", "/api/presets", null)).get(name));
    }

    @Test
    void servesThePageFromTheJar() throws IOException {
        Response page = call("GET", "/", null);
        assertEquals(200, page.status());
        assertTrue(page.body().contains("<canvas id=\"plane\"") && page.body().contains("src=\"/app.js\""), page.body());
        // the choice of activation comes from the enum: every hidden activation, tanh chosen
        for (bp.nn.Activation a : bp.nn.Activation.values()) {
            assertEquals(a != bp.nn.Activation.SOFTMAX, page.body().contains(">" + a.label() + "</option>"), a.label());
        }
        assertTrue(page.body().contains("<option selected>tanh</option>"), page.body());
        assertTrue(call("GET", "/app.js", null).body().contains("/api/sessions"));
        assertEquals(404, call("GET", "/nothing.js", null).status());
        assertEquals(405, call("POST", "/", "{}").status());
    }

    @Test
    void aNewSessionIsUntrainedXor() throws IOException {
        Map<String, Object> s = ok(call("POST", "/api/sessions", null));
        assertTrue(((String) s.get("id")).matches("[0-9a-f]{32}"));
        assertEquals("Correct: " + s.get("correct") + "/4 — Iteration: 0", s.get("status"));
        assertEquals(List.of(2, 4, 2), ((Map<?, ?>) s.get("network")).get("sizes"));
        assertEquals(Session.GRID * Session.GRID, ((List<?>) ((Map<?, ?>) s.get("heatmap")).get("values")).size());
    }

    /** Train requests until every XOR point is right; the loss history falls. */
    @Test
    void trainsXorToFourOfFour() throws IOException {
        String id = newSession();
        ok(call("POST", "/api/sessions/" + id + "/reset", preset("xor")));
        Map<String, Object> s = null;
        for (int i = 0; i < 20; i++) {
            s = ok(call("POST", "/api/sessions/" + id + "/train", "{\"epochs\": 100}"));
            if (s.get("correct").equals(4)) {
                break;
            }
        }
        assertTrue(((String) s.get("status")).matches("Correct: 4/4 — Iteration: [1-9]\\d*"), s.get("status").toString());
        List<?> history = (List<?>) s.get("history");
        double first = ((Number) ((List<?>) history.get(0)).get(1)).doubleValue();
        double last = ((Number) ((List<?>) history.get(history.size() - 1)).get(1)).doubleValue();
        assertTrue(last < first / 10, "loss " + first + " → " + last);
    }

    /** One Step of the worked example gives DESIGN.md's golden values: forward, deltas, new weights. */
    @Test
    void theWorkedExampleStepsLikeTheNotes() throws IOException {
        String id = newSession();
        Map<String, Object> s = ok(call("POST", "/api/sessions/" + id + "/reset", preset("worked-example")));
        assertEquals(0.3918291767, ((Number) s.get("loss")).doubleValue(), 1e-7);
        s = ok(call("POST", "/api/sessions/" + id + "/step", null));
        assertEquals("Correct: 1/1 — Iteration: 1", s.get("status"));
        Map<?, ?> trace = (Map<?, ?>) s.get("trace");
        assertClose(List.of(0.9129342276, 0.9791636555, 0.9952742874), ((List<?>) trace.get("activations")).get(1), 1e-6);
        assertClose(List.of(0.8910896615, 0.9043299249), ((List<?>) trace.get("activations")).get(2), 1e-6);
        assertClose(List.of(0.002453563281, 0.0007891121063, 0.0002186483568), ((List<?>) trace.get("deltas")).get(0), 1e-8);
        assertClose(List.of(0.08550876191, -0.00741194461), ((List<?>) trace.get("deltas")).get(1), 1e-7);
        List<?> layers = (List<?>) ((Map<?, ?>) s.get("network")).get("layers");
        assertClose(List.of(0.093866, 0.137732, 0.198027, 0.246054, 0.299453, 0.348907),
                flatten(((Map<?, ?>) layers.get(0)).get("weight")), 1e-6);
        // rows o1 = (w7, w9, w11), o2 = (w8, w10, w12)
        assertClose(List.of(0.3609680622, 0.4581364641, 0.5574476640, 0.4533833090, 0.5536287534, 0.6536884589),
                flatten(((Map<?, ?>) layers.get(1)).get("weight")), 1e-7);
        assertClose(List.of(0.35, 0.35, 0.35), ((Map<?, ?>) layers.get(0)).get("bias"), 1e-7); // frozen
    }

    /** Each refused request gets 400 with a message naming the problem, and leaves the session as it was. */
    @Test
    void badRequestsChangeNothing() throws IOException {
        String id = newSession();
        String base = "/api/sessions/" + id;
        ok(call("POST", base + "/train", "{\"epochs\": 3}"));
        String before = call("GET", base, null).body();
        StringBuilder manyPoints = new StringBuilder("{\"points\": [");
        for (int i = 0; i <= Config.MAX_POINTS; i++) {
            manyPoints.append(i == 0 ? "" : ",").append("{\"x\": 0, \"y\": 0, \"label\": 1}");
        }
        String valid = preset("xor");
        String[][] cases = {
                {"POST", base + "/reset", "{\"hidden\": [4", "malformed JSON"},
                {"POST", base + "/reset", "[1, 2]", "expected a JSON object"},
                {"POST", base + "/reset", valid.replace("\"hidden\":[4]", "\"hidden\":[4,4,4,4,4,4,4]"), "hidden: expected a list of at most 6"},
                {"POST", base + "/reset", valid.replace("\"hidden\":[4]", "\"hidden\":[17]"), "hidden: expected a whole number in 1..16, got 17"},
                {"POST", base + "/reset", valid.replace("\"tanh\"", "\"swish\""), "unknown activation 'swish'"},
                {"POST", base + "/reset", valid.replace("\"ce\"", "\"mae\""), "loss: expected ce, bce, sse or mse"},
                {"POST", base + "/reset", valid.replace("\"lr\":0.05", "\"lr\":-1"), "lr: expected a number"},
                {"POST", base + "/reset", valid.replace("\"batch\":4", "\"batch\":0"), "batch: expected a whole number"},
                {"POST", base + "/reset", valid.replace("\"adam\"", "\"lbfgs\""), "unknown optimizer 'lbfgs'"},
                {"POST", base + "/reset", valid.replace("{\"hidden\"", "{\"colour\":1,\"hidden\""), "unknown field 'colour'"},
                {"POST", base + "/reset", valid.replace("\"seed\":1", "\"seed\":1,\"parameters\":[1,2]"), "parameters: this network has 22, got 2"},
                {"POST", base + "/reset", valid.replace("\"view\":[-0.5,1.5,-0.5,1.5]", "\"view\":[1,0,0,1]"), "view: expected xMin < xMax"},
                {"PUT", base + "/points", "{\"points\": [{\"x\": 1, \"y\": 2, \"label\": 2}]}", "points[0].label: expected a whole number in 0..1"},
                {"PUT", base + "/points", "{\"points\": [{\"x\": \"1\", \"y\": 2, \"label\": 0}]}", "points[0].x: expected a number"},
                {"PUT", base + "/points", "{\"points\": [{\"x\": 1e9, \"y\": 2, \"label\": 0}]}", "points[0].x: expected a number in"},
                {"PUT", base + "/points", manyPoints.append("]}").toString(), "points: expected a list of at most 500"},
                {"PUT", base + "/points", "{\"points\": [" + "{\"x\":0,\"y\":0,\"label\":1},".repeat(3000) + "]}", "request body larger than 65536 bytes"},
                {"POST", base + "/train", "{\"epochs\": 0}", "epochs: expected a whole number in 1..1000"},
                {"POST", base + "/train", "{\"epochs\": 2.5}", "epochs: expected a whole number"},
                {"POST", base + "/train", "", "expected a JSON body"},
        };
        for (String[] c : cases) {
            Response r = call(c[0], c[1], c[2]);
            assertEquals(400, r.status(), c[3] + ": " + r.body());
            String error = (String) r.json().get("error");
            assertTrue(error.contains(c[3]), "expected '" + c[3] + "' in: " + error);
            assertEquals(before, call("GET", base, null).body(), "'" + c[3] + "' changed the session");
        }
        assertEquals(405, call("GET", base + "/step", null).status());
        assertEquals(404, call("GET", "/api/sessions/0123456789abcdef0123456789abcdef", null).status());
        assertEquals(before, call("GET", base, null).body());
    }

    /** A page of another site that reaches the port (DNS rebinding) names its own host: refused. */
    @Test
    void foreignHostsAreRefused() throws IOException {
        try (Socket s = new Socket(java.net.InetAddress.getLoopbackAddress(), server.port())) {
            s.getOutputStream().write(("POST /api/sessions HTTP/1.1\r\nHost: attacker.example:" + server.port()
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(response.startsWith("HTTP/1.1 400"), response);
            assertTrue(response.contains("127.0.0.1 or localhost only"), response);
        }
    }

    @Test
    void tabsHaveTheirOwnNetworks() throws IOException {
        String a = newSession();
        String b = newSession();
        assertNotEquals(a, b);
        ok(call("POST", "/api/sessions/" + a + "/train", "{\"epochs\": 5}"));
        ok(call("PUT", "/api/sessions/" + a + "/points", "{\"points\": [{\"x\": 0.5, \"y\": 0.5, \"label\": 1}]}"));
        Map<String, Object> sb = ok(call("GET", "/api/sessions/" + b, null));
        assertEquals(0, sb.get("iteration"));
        assertEquals(4, sb.get("total"));
        Map<String, Object> sa = ok(call("GET", "/api/sessions/" + a, null));
        assertEquals(5, sa.get("iteration"), "5 epochs of 4 points in one batch");
        assertEquals(1, sa.get("total"));
    }

    private static List<Object> flatten(Object rows) {
        List<Object> out = new ArrayList<>();
        for (Object row : (List<?>) rows) {
            out.addAll((List<?>) row);
        }
        return out;
    }

    private static void assertClose(List<Double> expected, Object actual, double tolerance) {
        List<?> a = (List<?>) actual;
        assertEquals(expected.size(), a.size(), String.valueOf(actual));
        for (int i = 0; i < a.size(); i++) {
            assertEquals(expected.get(i), ((Number) a.get(i)).doubleValue(), tolerance, "entry " + i + " of " + actual);
        }
    }
}
