"""One-off studies behind the design decisions in docs/ (run as ``python -m tools.studies.NAME``)."""
