package bp.playground;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bp playground}: the JDK's HTTP server on the loopback address, serving the page from the
 * jar and a JSON API, one {@link Session} per browser tab.
 *
 * <pre>
 * GET  /                               the page (and /app.js, /style.css)
 * GET  /api/presets                    name → settings, as POST …/reset takes them
 * POST /api/sessions                   a new session: {"id", …state}
 * GET  /api/sessions/ID                its state
 * POST /api/sessions/ID/reset          new network and points from settings
 * PUT  /api/sessions/ID/points         {"points": [{x, y, label}, …]}, keeping the network
 * POST /api/sessions/ID/step           one mini-batch, with the trace of its first sample
 * POST /api/sessions/ID/train          {"epochs": N}: up to N epochs or 250 ms
 * </pre>
 *
 * A malformed, oversized or out-of-limits request gets 400 and a {@code {"error"}} message and
 * changes nothing. Requests whose Host is not the loopback address are refused (DNS rebinding).
 */
public final class PlaygroundServer implements AutoCloseable {

    static final int MAX_BODY = 64 * 1024;
    static final int MAX_SESSIONS = 64;
    static final int MAX_EPOCHS = 1000;
    private static final Pattern SESSION = Pattern.compile("/api/sessions/([0-9a-f]{32})(/(reset|points|step|train))?");
    private static final Map<String, String> ASSETS = Map.of("/", "index.html", "/index.html", "index.html",
            "/app.js", "app.js", "/style.css", "style.css");

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    private PlaygroundServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts serving on 127.0.0.1:{@code port} (0: any free port). */
    public static PlaygroundServer start(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "bp-playground");
            t.setDaemon(true);
            return t;
        });
        PlaygroundServer playground = new PlaygroundServer(server, executor);
        server.createContext("/", playground::handle);
        server.setExecutor(executor);
        server.start();
        return playground;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port() + "/";
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                checkHost(ex);
                route(ex);
            } catch (BadRequest e) {
                sendJson(ex, 400, Map.of("error", e.getMessage()));
            } catch (NotFound e) {
                sendJson(ex, 404, Map.of("error", e.getMessage()));
            } catch (MethodNotAllowed e) {
                ex.getResponseHeaders().set("Allow", e.getMessage());
                sendJson(ex, 405, Map.of("error", "method " + ex.getRequestMethod() + " not allowed; use " + e.getMessage()));
            } catch (RuntimeException e) {
                sendJson(ex, 500, Map.of("error", String.valueOf(e)));
            }
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        if (path.equals("/favicon.ico")) {
            ex.sendResponseHeaders(204, -1); // no icon, and no error in the browser's console
        } else if (ASSETS.containsKey(path)) {
            require(method, "GET");
            sendAsset(ex, ASSETS.get(path));
        } else if (path.equals("/api/presets")) {
            require(method, "GET");
            sendJson(ex, 200, Presets.all());
        } else if (path.equals("/api/sessions")) {
            require(method, "POST");
            sendJson(ex, 200, newSession());
        } else {
            Matcher m = SESSION.matcher(path);
            if (!m.matches()) {
                throw new NotFound("no such page: " + path);
            }
            Session session = sessions.get(m.group(1));
            if (session == null) {
                throw new NotFound("no session " + m.group(1) + " (the server restarted, or it expired): reload the page");
            }
            String action = m.group(3);
            Map<String, Object> state = switch (action == null ? "" : action) {
                case "" -> {
                    require(method, "GET");
                    yield session.state();
                }
                case "reset" -> {
                    require(method, "POST");
                    yield session.reset(Config.parse(body(ex)));
                }
                case "points" -> {
                    require(method, "PUT");
                    yield session.setPoints(Config.points(field(body(ex), "points")));
                }
                case "step" -> {
                    require(method, "POST");
                    yield session.step();
                }
                case "train" -> {
                    require(method, "POST");
                    Object epochs = field(body(ex), "epochs");
                    if (!(epochs instanceof Number n) || n.doubleValue() != n.intValue() || n.intValue() < 1
                            || n.intValue() > MAX_EPOCHS) {
                        throw new BadRequest("epochs: expected a whole number in 1.." + MAX_EPOCHS + ", got " + epochs);
                    }
                    yield session.train(n.intValue());
                }
                default -> throw new AssertionError(action);
            };
            sendJson(ex, 200, state);
        }
    }

    private Map<String, Object> newSession() {
        if (sessions.size() >= MAX_SESSIONS) {
            // the least recently used tab gives way
            sessions.entrySet().stream().min(java.util.Comparator.comparingLong(e -> e.getValue().lastUsed()))
                    .ifPresent(e -> sessions.remove(e.getKey()));
        }
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        String id = HexFormat.of().formatHex(bytes);
        Session session = new Session(Config.initial());
        sessions.put(id, session);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.putAll(session.state());
        return out;
    }

    /** Browsers send the Host they connected to; anything but the loopback address is another site. */
    private void checkHost(HttpExchange ex) {
        String host = ex.getRequestHeaders().getFirst("Host");
        String expected = ":" + port();
        if (host == null || !(host.equals("127.0.0.1" + expected) || host.equals("localhost" + expected)
                || host.equals("[::1]" + expected))) {
            throw new BadRequest("the playground answers requests for 127.0.0.1 or localhost only, not " + host);
        }
    }

    private static void require(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new MethodNotAllowed(allowed);
        }
    }

    /** The request's JSON body, at most {@link #MAX_BODY} bytes. */
    private static Object body(HttpExchange ex) throws IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new BadRequest("request body larger than " + MAX_BODY + " bytes");
        }
        if (bytes.length == 0) {
            throw new BadRequest("expected a JSON body");
        }
        try {
            return JSON.std.anyFrom(new String(bytes, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            throw new BadRequest("malformed JSON: " + firstLine(e.getMessage()));
        }
    }

    private static Object field(Object body, String name) {
        if (!(body instanceof Map<?, ?> map)) {
            throw new BadRequest("expected a JSON object with '" + name + "'");
        }
        return map.get(name);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static void sendJson(HttpExchange ex, int status, Object body) throws IOException {
        byte[] bytes;
        try {
            bytes = JSON.std.asBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    private static void sendAsset(HttpExchange ex, String name) throws IOException {
        byte[] bytes;
        try (InputStream in = PlaygroundServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new NotFound("asset " + name + " is missing from the jar");
            }
            bytes = in.readAllBytes();
        }
        if (name.equals("index.html")) {
            bytes = new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                    .replace(ACTIVATIONS_MARKER, activationOptions()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        String type = name.endsWith(".html") ? "text/html" : name.endsWith(".js") ? "text/javascript" : "text/css";
        ex.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'");
        ex.sendResponseHeaders(200, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    private static final String ACTIVATIONS_MARKER = "<!-- activations: the server puts one option per hidden activation here -->";

    /** The page's choice of hidden activation, from the enum: every one but softmax, tanh first chosen, and maxout:3 too. */
    static String activationOptions() {
        StringBuilder sb = new StringBuilder();
        for (bp.nn.Activation a : bp.nn.Activation.values()) {
            if (a == bp.nn.Activation.SOFTMAX) {
                continue;
            }
            sb.append(a == bp.nn.Activation.TANH ? "<option selected>" : "<option>").append(a.label()).append("</option>");
            if (a == bp.nn.Activation.MAXOUT) {
                sb.append("<option>maxout:3</option>");
            }
        }
        return sb.toString();
    }

    private static final class NotFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotFound(String message) {
            super(message);
        }
    }

    private static final class MethodNotAllowed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MethodNotAllowed(String allowed) {
            super(allowed);
        }
    }
}
