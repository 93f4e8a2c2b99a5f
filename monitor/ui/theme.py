"""Colours of the dark bedside theme (numerics follow the usual monitor conventions)."""

BACKGROUND = "#000000"
PANEL = "#101418"
PANEL_EDGE = "#26303a"
TEXT = "#e8e8e8"
DIM_TEXT = "#9aa4ad"
STALE = "#6b6b6b"
SPO2_COLOUR = "#00e5ff"  # cyan, as on most monitors
PR_COLOUR = "#00e676"  # green
NIBP_COLOUR = "#ff6e6e"
RESP_COLOUR = "#ffd740"
CO2_COLOUR = "#fff59d"  # pale yellow, the usual capnogram colour
CO2_FILL = "#fff59d55"
PI_COLOUR = "#80d8ff"
PLETH_COLOUR = SPO2_COLOUR
OK_COLOUR = "#00e676"
PROBLEM_COLOUR = "#ffd600"
FAILED_COLOUR = "#ff1a1a"
BUTTON = "#1c242c"
BUTTON_EDGE = "#3a4652"
FONT_FAMILY = "DejaVu Sans"
