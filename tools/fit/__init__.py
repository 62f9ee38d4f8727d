"""Fitting scripts that write the files shipped in ``qa_bot/fitted`` (run as ``python -m tools.fit.NAME``)."""
