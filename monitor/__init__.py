"""The monitor: stores, pipeline, alarms, recording, CLI; the Qt GUI lives in `monitor.ui`."""

import drivers  # noqa: F401  (first: numpy's BLAS threads, see drivers/__init__.py)
