"""Virtual patients and devices that speak the real wire protocols (no hardware needed)."""
