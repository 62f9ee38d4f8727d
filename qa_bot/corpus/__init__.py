"""The curated corpus: article files with front matter, and turning sources (pasted text, HTML,
URLs, JSONL) into them: cleaning page clutter, fetching pages, assigning ids."""
