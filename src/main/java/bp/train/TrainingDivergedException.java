package bp.train;

/** The loss became NaN or infinite; the network's parameters are then unusable. */
public final class TrainingDivergedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * A diverged run, with a message that says where and what to try.
     *
     * @param message the message
     */
    public TrainingDivergedException(String message) {
        super(message);
    }
}
