"""After the classifier: exercise fold, periodicity, voting, the rep counter, its events."""
