package bp.io;

/** A model file that cannot be read or written: the message names the file and what was wrong. */
public final class ModelFileException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ModelFileException(String message) {
        super(message);
    }

    public ModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
