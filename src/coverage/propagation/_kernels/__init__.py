"""Numba kernels of the propagation models: plain arrays and floats in, arrays out.

Private: the public functions in :mod:`coverage.propagation` validate inputs and call these."""
