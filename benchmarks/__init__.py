"""Benchmarks of webcast, run by hand (``python -m benchmarks.decode``); results in README.md."""
