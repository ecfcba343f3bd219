package bp.train;

/**
 * A network's mean loss on a data set and, for classification, its accuracy and confusion matrix
 * ({@code confusion[actual][predicted]} counts).
 */
public record Evaluation(int samples, double loss, double accuracy, long[][] confusion) {
}
