"""Passage vector stores behind one protocol."""
