"""Protocol names -> driver classes, imported on demand (python-can's interface table)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal, Never
from urllib.parse import parse_qsl, urlsplit

from drivers.base import (
    CapnoDecoder,
    Decoder,
    Encoder,
    LineSettings,
    OximeterDecoder,
    OximeterEncoder,
    RespDecoder,
    RespEncoder,
)
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


def _load(name: str, kind: DeviceKind | None, part: Literal["decoder", "encoder"]) -> object:
    """A new decoder or encoder of protocol `name` (which must be of `kind`, if given)."""
    info = get_protocol(name)
    if kind is not None and info.kind != kind:
        raise UnknownProtocolError(f"protocol '{info.name}' is a {info.kind} protocol, not {kind}")
    class_name = info.decoder_class if part == "decoder" else info.encoder_class
    return getattr(importlib.import_module(info.module), class_name)()


def _wrong(name: str, made: object, interface: str) -> TypeError:
    return TypeError(f"registry: {type(made).__name__} of '{name}' is not an {interface}")


def make_decoder(name: str) -> Decoder[object]:
    """Any protocol's decoder (counters, `feed`, `reset`); the typed ones below say more."""
    decoder = _load(name, None, "decoder")
    if not isinstance(decoder, Decoder):
        raise _wrong(name, decoder, "Decoder")
    return decoder


def oximeter_decoder(name: str) -> OximeterDecoder:
    decoder = _load(name, "oximeter", "decoder")
    if not isinstance(decoder, OximeterDecoder):
        raise _wrong(name, decoder, "OximeterDecoder")
    return decoder


def resp_decoder(name: str) -> RespDecoder:
    decoder = _load(name, "resp", "decoder")
    if not isinstance(decoder, RespDecoder):
        raise _wrong(name, decoder, "RespDecoder")
    return decoder


def capno_decoder(name: str) -> CapnoDecoder:
    decoder = _load(name, "capno", "decoder")
    if not isinstance(decoder, CapnoDecoder):
        raise _wrong(name, decoder, "CapnoDecoder")
    return decoder


def make_encoder(name: str) -> Encoder[Never]:
    """Any protocol's encoder (what it takes depends on the protocol: see the typed ones)."""
    encoder = _load(name, None, "encoder")
    if not isinstance(encoder, Encoder):
        raise _wrong(name, encoder, "Encoder")
    return encoder


def oximeter_encoder(name: str) -> OximeterEncoder:
    encoder = _load(name, "oximeter", "encoder")
    if not isinstance(encoder, OximeterEncoder):
        raise _wrong(name, encoder, "OximeterEncoder")
    return encoder


def resp_encoder(name: str) -> RespEncoder:
    encoder = _load(name, "resp", "encoder")
    if not isinstance(encoder, RespEncoder):
        raise _wrong(name, encoder, "RespEncoder")
    return encoder


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
