package bp.playground;

/** A request the playground refuses: answered with HTTP 400 and this message, changing nothing. */
final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
        super(message);
    }
}
