"""Benchmarks of the sending pipeline (issue 4): run each as ``python bench/<name>.py``."""
