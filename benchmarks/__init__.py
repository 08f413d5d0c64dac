"""Benchmarks of httpx_cassette against the floor (httpx.MockTransport) and its peers.

Run everything with ``python benchmarks/run.py`` (``--quick`` for a short run); see docs/benchmarks.md.
"""
