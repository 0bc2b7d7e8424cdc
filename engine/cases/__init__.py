"""Case files (casefile/1) -> Case: text with locations, loading and checking, dumping back."""
