"""The central-station link over MQTT (docs/central.md): the bedside's publisher, the
address of a broker, and the Qt-free model of the central station."""
