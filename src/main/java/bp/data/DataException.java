package bp.data;

/** A data file that cannot be read as asked: the message names the file, the position and what was expected. */
public final class DataException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * An error with a message that names the file and what was expected.
     *
     * @param message the message
     */
    public DataException(String message) {
        super(message);
    }

    /**
     * As the other constructor, with the error that caused it.
     *
     * @param message the message
     * @param cause the cause
     */
    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
