"""From a question to passages: how a question is read (acronyms, misspellings) and the hybrid
dense + BM25 search with reciprocal rank fusion."""
