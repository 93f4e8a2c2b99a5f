"""The PyQt6 + pyqtgraph GUI: paints what `monitor` computes, sends commands back."""
