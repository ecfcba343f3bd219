package bp.io;

/** A model file that cannot be read or written: the message names the file and what was wrong. */
public final class ModelFileException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * An error with a message that names the file and what was expected.
     *
     * @param message the message
     */
    public ModelFileException(String message) {
        super(message);
    }

    /**
     * As the other constructor, with the error that caused it.
     *
     * @param message the message
     * @param cause the cause
     */
    public ModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
