"""Reproducible benchmarks against named peers; `make bench` writes docs/benchmarks.md."""
