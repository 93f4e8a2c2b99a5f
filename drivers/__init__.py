"""Device drivers: wire protocols (decode + encode) and the serial transport.

Nothing here imports Qt, the simulator or the monitor: this is the bottom layer.
"""

import os

# No part of vitalmon calls BLAS, yet numpy's OpenBLAS starts a worker thread per core
# that spins ~0.1 s of CPU at every start and holds ~16 MB: one thread, unless the user
# says otherwise. Set here, before anything of ours imports numpy (monitor and simulator
# import this package first).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
