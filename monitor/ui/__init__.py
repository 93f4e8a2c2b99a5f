"""The PyQt6 + pyqtgraph GUI: paints what `monitor` computes, sends commands back."""

import os

# QtMultimedia probes for PipeWire and says so on stderr when it is absent (it then uses
# PulseAudio or nothing, which the sound module reports itself): not the nurse's concern.
os.environ.setdefault(
    "QT_LOGGING_RULES", "qt.multimedia.symbolsresolver=false;qt.multimedia.ffmpeg=false"
)
