package bp.train;

/** The loss became NaN or infinite; the network's parameters are then unusable. */
public final class TrainingDivergedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message) {
        super(message);
    }
}
