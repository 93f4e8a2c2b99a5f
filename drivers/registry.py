"""Protocol names -> driver classes, imported on demand (python-can's interface table)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from drivers.base import LineSettings
from drivers.errors import PortSpecError, UnknownProtocolError

DeviceKind = Literal["oximeter", "nibp", "resp", "capno"]


@dataclass(frozen=True, slots=True)
class ProtocolInfo:
    name: str
    kind: DeviceKind
    module: str
    decoder_class: str
    encoder_class: str
    line: LineSettings
    description: str


PROTOCOLS: dict[str, ProtocolInfo] = {
    info.name: info
    for info in (
        ProtocolInfo(
            "nonin2",
            "oximeter",
            "drivers.nonin",
            "Nonin2Decoder",
            "Nonin2Encoder",
            LineSettings(9600),
            "Nonin serial data format 2 (5-byte frames, 75/s)",
        ),
        ProtocolInfo(
            "nonin7",
            "oximeter",
            "drivers.nonin",
            "Nonin7Decoder",
            "Nonin7Encoder",
            LineSettings(9600),
            "Nonin serial data format 7 (5-byte frames, 16-bit pleth, 75/s)",
        ),
        ProtocolInfo(
            "nonin8",
            "oximeter",
            "drivers.nonin8",
            "Nonin8Decoder",
            "Nonin8Encoder",
            LineSettings(9600),
            "Nonin serial data format 8 (4 bytes once a second, no pleth)",
        ),
        ProtocolInfo(
            "contec",
            "oximeter",
            "drivers.contec",
            "ContecDecoder",
            "ContecEncoder",
            LineSettings(4800, parity="O"),
            "Contec CMS50 5-byte stream (60/s; USB cables often 19200 8O1)",
        ),
        ProtocolInfo(
            "berry",
            "oximeter",
            "drivers.contec",
            "BerryDecoder",
            "BerryEncoder",
            LineSettings(9600),
            "BerryMed BM1000 (Contec 5-byte layout, 100/s)",
        ),
        ProtocolInfo(
            "contec7",
            "oximeter",
            "drivers.contec",
            "Contec7Decoder",
            "Contec7Encoder",
            LineSettings(115200),
            "Contec V7.0 (CMS50D+ fw 4.6, CMS50E/F/EW): two-way, start + keep-alive, PI",
        ),
        ProtocolInfo(
            "masimo",
            "oximeter",
            "drivers.masimo",
            "MasimoDecoder",
            "MasimoEncoder",
            LineSettings(9600),
            "Masimo ASCII 1 (one KEY=VALUE text line a second, PI)",
        ),
        ProtocolInfo(
            "suntech",
            "nibp",
            "drivers.suntech",
            "SuntechResponseDecoder",
            "SuntechResponseEncoder",
            LineSettings(9600),
            "SunTech Advantage OEM NIBP module (command/response, 9600 8N1)",
        ),
        ProtocolInfo(
            "simresp",
            "resp",
            "drivers.simresp",
            "SimRespDecoder",
            "SimRespEncoder",
            LineSettings(9600),
            "vitalmon's own respiration stream (8-byte frames, 25/s; simulator, WFDB RESP)",
        ),
        ProtocolInfo(
            "capnostat",
            "capno",
            "drivers.capnostat",
            "CapnostatDecoder",
            "CapnostatEncoder",
            LineSettings(19200),
            "Philips Respironics Capnostat 5 / LoFlo CO2 module (two-way, 100/s, 19200 8N1)",
        ),
    )
}

ALIASES: dict[str, str] = {"nonin": "nonin2"}

# pyserial URL options that belong to the line, not to the URL handler.
LINE_OPTION_KEYS = frozenset({"baud", "bytesize", "parity", "stopbits"})


def protocol_names() -> list[str]:
    return sorted([*PROTOCOLS, *ALIASES])


def get_protocol(name: str) -> ProtocolInfo:
    key = ALIASES.get(name.lower(), name.lower())
    try:
        return PROTOCOLS[key]
    except KeyError:
        known = ", ".join(protocol_names())
        raise UnknownProtocolError(f"unknown protocol '{name}' (known: {known})") from None


def _load(info: ProtocolInfo, class_name: str) -> Any:
    module = importlib.import_module(info.module)
    return getattr(module, class_name)()


def make_decoder(name: str) -> Any:
    info = get_protocol(name)
    return _load(info, info.decoder_class)


def make_encoder(name: str) -> Any:
    info = get_protocol(name)
    return _load(info, info.encoder_class)


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A parsed `PROTO:PORT[?baud=...]`: which protocol, which pyserial URL, which line."""

    protocol: ProtocolInfo
    url: str
    line: LineSettings

    @property
    def label(self) -> str:
        return f"{self.protocol.name}:{self.url}"


NETWORK_SCHEMES = ("socket", "rfc2217")


def _check_network_address(spec: str, url: str) -> None:
    """`socket://HOST:PORT`: pyserial would report a bad port number as a complaint about
    its logging levels; say what is wrong instead."""
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() not in NETWORK_SCHEMES:
        return
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port is None or not 1 <= port <= 65535:
        raise PortSpecError(f"'{spec}': a network port is {scheme}://HOST:PORT, PORT 1-65535")


def parse_port_spec(spec: str, expected_kind: DeviceKind | None = None) -> PortSpec:
    """Split at the first colon; line options in the query string override the defaults."""
    proto, sep, port = spec.partition(":")
    if not sep or not proto or not port:
        raise PortSpecError(
            f"port spec '{spec}' must look like PROTO:PORT, e.g. nonin2:/dev/ttyUSB0"
        )
    info = get_protocol(proto)
    if expected_kind and info.kind != expected_kind:
        raise PortSpecError(
            f"protocol '{info.name}' is a {info.kind} protocol, not {expected_kind}"
        )
    url, _, query = port.partition("?")
    _check_network_address(spec, url)
    options = dict(parse_qsl(query, keep_blank_values=True))
    line_options = {k: v for k, v in options.items() if k in LINE_OPTION_KEYS}
    others = [k for k in options if k not in LINE_OPTION_KEYS]
    if others and "://" not in url:
        # A device path takes only line options; a URL (socket://, rfc2217://) also its
        # own, which pyserial checks when it opens it.
        raise PortSpecError(
            f"unknown port option {', '.join(repr(k) for k in others)} in '{spec}' "
            f"(line options: {', '.join(sorted(LINE_OPTION_KEYS))})"
        )
    rest = "&".join(f"{k}={options[k]}" if options[k] else k for k in others)
    if rest:
        url = f"{url}?{rest}"
    return PortSpec(info, url, info.line.override(line_options))
