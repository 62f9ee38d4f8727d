"""Speed, memory and load benchmarks that print figures (run as ``python -m benchmarks.NAME``)."""
