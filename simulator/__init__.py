"""Virtual patients and devices that speak the real wire protocols (no hardware needed)."""

import drivers  # noqa: F401  (first: numpy's BLAS threads, see drivers/__init__.py)
