"""Benchmarks (``make bench``): measured on this machine, written into bench/RESULTS.md."""
