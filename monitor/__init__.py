"""The monitor: stores, pipeline, alarms, recording, CLI; the Qt GUI lives in `monitor.ui`."""
