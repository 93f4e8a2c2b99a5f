"""The Qt-free presentation layer: what the screen shows, as plain functions and tables.

`monitor.ui` paints what these modules decide, so every screen rule is reachable
by a test without a window (docs/architecture.md).
"""
