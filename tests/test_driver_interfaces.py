"""The registry's factories return the interfaces of drivers/base.py, and what a device
may lack is declared there, not probed for."""

from __future__ import annotations

import pytest

from drivers.base import (
    CapnoDecoder,
    Decoder,
    OximeterDecoder,
    OximeterEncoder,
    RespDecoder,
    RespEncoder,
    StreamDecoder,
)
from drivers.errors import UnknownProtocolError, VitalmonError
from drivers.masimo import MasimoDecoder
from drivers.registry import (
    PROTOCOLS,
    capno_decoder,
    make_decoder,
    oximeter_decoder,
    oximeter_encoder,
    resp_decoder,
    resp_encoder,
)
from drivers.types import OximeterBatch

BY_KIND = {
    "oximeter": (oximeter_decoder, OximeterDecoder),
    "resp": (resp_decoder, RespDecoder),
    "capno": (capno_decoder, CapnoDecoder),
}


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_protocol_is_made_as_its_kinds_interface(name: str) -> None:
    kind = PROTOCOLS[name].kind
    assert isinstance(make_decoder(name), Decoder)
    if kind in BY_KIND:
        factory, interface = BY_KIND[kind]
        assert isinstance(factory(name), interface)


@pytest.mark.parametrize(
    ("factory", "name"),
    [(oximeter_decoder, "simresp"), (resp_decoder, "nonin2"), (capno_decoder, "suntech")],
)
def test_a_protocol_of_another_kind_is_one_line_not_a_wrong_decoder(factory, name) -> None:
    with pytest.raises(UnknownProtocolError, match=f"'{name}' is a .* protocol, not"):
        factory(name)
    assert issubclass(UnknownProtocolError, VitalmonError)


def test_encoders_of_the_simulator_are_typed_by_kind() -> None:
    assert isinstance(oximeter_encoder("contec7"), OximeterEncoder)
    assert isinstance(resp_encoder("simresp"), RespEncoder)
    with pytest.raises(UnknownProtocolError):
        resp_encoder("masimo")


def test_a_two_way_oximeter_says_what_to_send_and_a_one_way_one_says_nothing() -> None:
    contec7, contec = oximeter_decoder("contec7"), oximeter_decoder("contec")
    assert contec7.startup_bytes() and contec7.keepalive_bytes()
    assert contec7.keepalive_interval_s is not None and contec7.keepalive_interval_s > 0
    assert contec.startup_bytes() == b"" and contec.keepalive_interval_s is None
    nonin2 = oximeter_decoder("nonin2")  # selects its format on open, needs no keep-alive
    assert nonin2.startup_bytes() and nonin2.keepalive_interval_s is None


def test_the_default_run_decode_is_the_feeds_one_by_one() -> None:
    """Masimo has no one-pass scan: it inherits StreamDecoder.feed_run."""
    assert MasimoDecoder.feed_run is StreamDecoder.feed_run
    encoder = oximeter_encoder("masimo")
    data = encoder.encode(OximeterBatch.constant(1, [0.0] * 6, 97, 64, 2.5))
    pieces = [data[i : i + 7] for i in range(0, len(data), 7)]
    one_by_one = oximeter_decoder("masimo")
    expected = [one_by_one.feed(p) for p in pieces]
    batch, counts = oximeter_decoder("masimo").feed_run(pieces)
    assert counts.tolist() == [len(b) for b in expected] and sum(counts) == 6
    assert list(batch) == list(expected[0].concat(expected))
