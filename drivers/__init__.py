"""Device drivers: wire protocols (decode + encode) and the serial transport.

Nothing here imports Qt, the simulator or the monitor: this is the bottom layer.
"""
