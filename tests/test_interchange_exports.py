"""Vital Recorder and HL7 exports, read back by their own readers: vitaldb.VitalFile for
`.vital` (compared with `vitalmon log --numerics` of the same file) and hl7apy for every
ORU^R01 message of `.hl7` (values compared with the recording)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import numpy as np

from monitor.cli import main
from monitor.recording.store import SessionReader
from tests.recording_helpers import WALL_START

START = WALL_START.timestamp()


def _log_numerics(path) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "log", str(path), "--numerics", "--format", "jsonl"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_vital_read_back_by_vitaldb(report_session, tmp_path, capsys) -> None:
    import vitaldb

    path, emitted = report_session
    out = tmp_path / "s.vital"
    assert main(["export", str(path), "--format", "vital", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    vf = vitaldb.VitalFile(str(out))
    names = set(vf.get_track_names())
    assert {"vitalmon/PLETH", "vitalmon/SPO2", "vitalmon/PR", "vitalmon/RR"} <= names
    assert {"vitalmon/NIBP_SBP", "vitalmon/NIBP_DBP", "vitalmon/NIBP_MBP", "EVENT"} <= names
    assert vf.dgmt == 0 and vf.dtstart == START
    # Every numeric, second by second, as `vitalmon log --numerics` prints it.
    logged = _log_numerics(path)
    assert len(logged) == 900
    _every_numeric_as_logged(vf, logged, START)
    silent = [r["t"] for r in logged if r["spo2"] is None]
    assert silent  # the oximeter's gap: no value, not a made-up one
    # NIBP at the reading times, failed readings left out.
    readings = [r for r in emitted if r["type"] == "nibp" and r["status"] == "ok"]
    for field, track in (("sys", "NIBP_SBP"), ("dia", "NIBP_DBP"), ("map", "NIBP_MBP")):
        got = [(r["dt"], r["val"]) for r in vf.trks[f"vitalmon/{track}"].recs]
        assert got == [(START + r["t"], float(r[field])) for r in readings]
    # The pleth, sample for sample, at 75 Hz.
    pleth = vf.trks["vitalmon/PLETH"]
    assert pleth.srate == 75
    with SessionReader(path) as reader:
        blocks = reader.wave_blocks()
    wave = vf.to_numpy(["vitalmon/PLETH"], 1 / 75)[:, 0]
    first = blocks[0]
    i = round((START + first.t0 - vf.dtstart) * 75)
    np.testing.assert_allclose(wave[i : i + len(first.samples)], first.samples, atol=1e-4)
    # Events and alarms on the EVENT track at their UTC times.
    events = {(r["dt"], r["val"]) for r in vf.trks["EVENT"].recs}
    for r in emitted:
        if r["type"] == "alarm":
            assert (START + r["t"], f"ALARM {r['id']} {r['state']}") in events
    assert any(v.startswith("EVENT sign_off by=RN Smith") for _, v in events)


def _every_numeric_as_logged(vf, logged: list[dict], start: float) -> None:
    """Every measured number `vitalmon log --numerics` prints is on its own track, second
    by second (a missing value is no value); a Vital file keeps numbers as float32."""
    from monitor.recording.interchange import vital_tracks

    names = vital_tracks()["numerics"]
    keys = {
        k
        for r in logged
        for k, v in r.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k in names
    }
    assert {"spo2", "pr", "rr"} <= keys
    for key in keys:
        recs = {r["dt"]: r["val"] for r in vf.trks[f"vitalmon/{names[key]['track']}"].recs}
        want = {start + r["t"]: float(np.float32(r[key])) for r in logged if r.get(key) is not None}
        assert recs == want, key


def _messages(data: bytes) -> list[str]:
    assert data.startswith(b"\x0b") and data.endswith(b"\x1c\r")
    frames = data[1:-2].split(b"\x1c\r\x0b")
    return [f.decode("utf-8") for f in frames]


def _hl7_time(text: str) -> float:
    pattern = "%Y%m%d%H%M%S.%f%z" if "." in text else "%Y%m%d%H%M%S%z"
    return datetime.strptime(text, pattern).astimezone(UTC).timestamp()


def test_hl7_messages_parse_and_match_the_recording(report_session, tmp_path, capsys) -> None:
    from hl7apy.parser import parse_message

    path, emitted = report_session
    out = tmp_path / "s.hl7"
    assert main(["export", str(path), "--format", "hl7", "--out", str(out)]) == 0
    messages = _messages(out.read_bytes())
    streamed = subprocess.run(
        [sys.executable, "-m", "monitor", "export", str(path), "--format", "hl7", "--out", "-"],
        capture_output=True,
        check=True,
    )
    assert streamed.stdout == out.read_bytes()  # --out -: the same bytes on stdout
    numerics = {r["t"]: r for r in emitted if r["type"] == "numerics"}
    readings = {r["t"]: r for r in emitted if r["type"] == "nibp" and r["status"] == "ok"}
    minutes, nibp, controls = [], [], set()
    for text in messages:
        m = parse_message(text, find_groups=False)
        assert m.msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
        assert m.msh.msh_12.to_er7() == "2.6"
        assert m.msh.msh_21.to_er7() == "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
        controls.add(m.msh.msh_10.to_er7())
        assert m.pid.pid_3.to_er7() == "P-0042^^^^MR"
        assert m.obr.obr_4.to_er7() == "182777000^monitoring of patient^SCT"
        obx = {o.obx_3.obx_3_1.to_er7(): o for o in m.obx}
        times = {_hl7_time(o.obx_14.to_er7()) - START for o in m.obx}
        assert len(times) == 1
        (t,) = times
        if "150021" in obx:
            r = readings[t]
            assert float(obx["150021"].obx_5.to_er7()) == r["sys"]
            assert float(obx["150022"].obx_5.to_er7()) == r["dia"]
            assert float(obx["150023"].obx_5.to_er7()) == r["map"]
            assert obx["150021"].obx_6.to_er7() == "266016^MDC_DIM_MMHG^MDC"
            nibp.append(t)
        else:
            r = numerics[t]  # the minute's latest value, at its time
            assert float(obx["150456"].obx_5.to_er7()) == r["spo2"]
            assert obx["150456"].obx_6.to_er7() == "262688^MDC_DIM_PERCENT^MDC"
            assert float(obx["149530"].obx_5.to_er7()) == r["pr"]
            # The rate's code says its source: capnography (151594) or respiration (151562).
            rr_code = "151594" if r["rr_source"] == "capnography" else "151562"
            assert float(obx[rr_code].obx_5.to_er7()) == r["rr"]
            minutes.append(t)
    assert len(controls) == len(messages)  # every control id its own
    assert nibp == sorted(readings)
    # One message a minute (t 1-59 ... 900 alone: 16), each the minute's last second.
    assert [int(t // 60) for t in minutes] == list(range(16))
    assert all(t % 60 == 59 for t in minutes[:-1]) and minutes[-1] == 900


def test_hl7_of_a_session_with_no_values_says_so(tmp_path, capsys) -> None:
    from monitor.recording.store import SessionWriter

    path = tmp_path / "empty.vitalmon"
    meta = {"wall_start": "2026-01-01T00:00:00+00:00", "protocols": {"oximeter": "nonin2"}}
    SessionWriter(path, meta).close()
    for fmt in ("hl7", "vital"):
        assert main(["export", str(path), "--format", fmt, "--out", str(tmp_path / "o")]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "holds no" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.vitalmon"]


def test_vital_of_a_capnography_session(capno_session, tmp_path) -> None:
    import vitaldb

    out = tmp_path / "co2.vital"
    assert main(["export", str(capno_session), "--format", "vital", "--out", str(out)]) == 0
    vf = vitaldb.VitalFile(str(out))
    with SessionReader(capno_session) as reader:
        start = datetime.fromisoformat(str(reader.meta["wall_start"])).timestamp()
        blocks = reader.wave_blocks("capno", "co2")
    co2 = vf.trks["vitalmon/CO2"]
    assert (co2.srate, co2.unit) == (100, "mmHg")
    first = blocks[0]
    wave = vf.to_numpy(["vitalmon/CO2"], 1 / 100)[:, 0]
    i = round((start + first.t0 - vf.dtstart) * 100)
    np.testing.assert_allclose(wave[i : i + len(first.samples)], first.samples, atol=1e-3)
    logged = _log_numerics(capno_session)
    assert any(r.get("etco2") is not None for r in logged)
    _every_numeric_as_logged(vf, logged, start)
    assert {"vitalmon/ETCO2", "vitalmon/FICO2"} <= set(vf.trks)


def test_hl7_of_a_capnography_session_codes_co2(capno_session, tmp_path) -> None:
    """EtCO2 and FiCO2 as partial pressures (mmHg), the rate as capnography's own code."""
    from hl7apy.parser import parse_message

    out = tmp_path / "co2.hl7"
    assert main(["export", str(capno_session), "--format", "hl7", "--out", str(out)]) == 0
    logged = {r["t"]: r for r in _log_numerics(capno_session)}
    with SessionReader(capno_session) as reader:
        start = datetime.fromisoformat(str(reader.meta["wall_start"])).timestamp()
    seen = set()
    for text in _messages(out.read_bytes()):
        m = parse_message(text)  # with its groups: the ORU_R01 structure holds
        group = m.oru_r01_patient_result.oru_r01_order_observation
        for obs in group.oru_r01_observation:
            obx = obs.obx
            code = obx.obx_3.obx_3_1.to_er7()
            t = round(_hl7_time(obx.obx_14.to_er7()) - start, 3)
            seen.add(code)
            r = logged[t]
            if code in ("151728", "151736"):
                assert obx.obx_6.to_er7() == "266016^MDC_DIM_MMHG^MDC"
                key = "etco2" if code == "151728" else "fico2"
                assert float(obx.obx_5.to_er7()) == r[key]
            if code == "151594":
                assert r["rr_source"] == "capnography"
                assert obx.obx_6.to_er7() == "264928^MDC_DIM_RESP_PER_MIN^MDC"
                assert float(obx.obx_5.to_er7()) == r["rr"]
    assert {"151728", "151736", "151594", "150456"} <= seen
    assert "151708" not in seen  # the concentration (%) code is not the one
