"""Benchmarks: figures printed side by side with a baseline in the same run."""
