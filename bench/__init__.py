"""Benchmarks: plain scripts run as `python -m bench.<name>`, printing `name: value unit`."""
