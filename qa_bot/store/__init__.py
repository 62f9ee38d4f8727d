"""What an index holds and how it is kept: the generations on disk with their manifest, the
in-memory ``IndexData``, the passage vectors, the BM25 index and the sentences' token states."""
