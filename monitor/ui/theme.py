"""Colours of the dark bedside theme (numerics follow the usual monitor conventions)."""

BACKGROUND = "#000000"
PANEL = "#101418"
TEXT = "#e8e8e8"
STALE = "#6b6b6b"
SPO2_COLOUR = "#00e5ff"  # cyan, as on most monitors
PR_COLOUR = "#00e676"  # green
NIBP_COLOUR = "#ff6e6e"
RESP_COLOUR = "#ffd740"
PLETH_COLOUR = SPO2_COLOUR
