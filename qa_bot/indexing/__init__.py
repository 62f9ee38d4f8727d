"""Index builds: articles cut into sentences and passages, embedded, and assembled into an index,
re-embedding only the articles whose content changed."""
