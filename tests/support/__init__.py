"""Code the tests and benchmarks share; not part of the service."""
