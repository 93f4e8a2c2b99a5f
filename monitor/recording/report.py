"""The end-of-session report (docs/clinical.md) as a PDF: reportlab lays the pages out,
matplotlib (Agg, no GUI) draws the trend plots as images.

The numbers come from `summary.summarize`; this module only arranges them.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from monitor.recording.store import SessionReader
from monitor.recording.summary import Summary, describe, summarize
from monitor.records import fields_of, time_of

LABELS = {
    "spo2": "SpO2 (%)",
    "pr": "Pulse rate (/min)",
    "pi": "Perfusion index (%)",
    "rr": "Respiration rate (/min)",
    "etco2": "End-tidal CO2 (mmHg)",
    "fico2": "Inspired CO2 (mmHg)",
    "apnea_s": "Time since the last breath began (s)",
}
PRIORITY_COLOURS = {"high": "#d62728", "medium": "#e6a700", "low": "#17becf"}
PLOT_W_CM, PLOT_H_CM = 17.0, 4.6
TREND_POINTS = 600  # above this many seconds, trends show binned median and range

_styles = getSampleStyleSheet()
H1, BODY = _styles["Title"], _styles["BodyText"]
H2 = ParagraphStyle("h2", parent=_styles["Heading2"], keepWithNext=1)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)


def _clock(s: Summary, t: float) -> str:
    return s.wall(t).strftime("%H:%M:%S")


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _dash(value: object) -> object:
    """A missing value is shown as a dash, never as 'None'."""
    return "-" if value is None else value


def _table(rows: list[list[object]], widths: list[float] | None = None) -> Table:
    """Cells are plain text (a nurse's note may hold '<' or '&'); a row taller than a
    page, a note of thousands of characters, is split across pages (splitInRow)."""
    cells = [[Paragraph(escape(str(c)), SMALL) for c in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT", splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde3ea")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _none(text: str) -> Paragraph:
    return Paragraph(f"<i>{escape(text)}</i>", BODY)


# -- plots ---------------------------------------------------------------------------------


def _png(fig: Figure) -> Image:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    buffer.seek(0)
    return Image(buffer, width=PLOT_W_CM * cm, height=PLOT_H_CM * cm)


def _axes(s: Summary) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(PLOT_W_CM / 2.54, PLOT_H_CM / 2.54), dpi=150)
    ax = fig.add_subplot(1, 1, 1)
    ax.tick_params(labelsize=6)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    ax.set_xlim(0, max(s.duration_s / 60.0, 1.0))
    ax.set_xlabel(f"minutes since {s.wall_start.strftime('%Y-%m-%d %H:%M:%S')} UTC", fontsize=6)
    return fig, ax


def _mark_events(s: Summary, ax: Axes) -> None:
    """Phases and events as grey lines, alarm onsets as ticks in their priority colour."""
    for phase, t, _ in s.phases:
        ax.axvline(t / 60.0, color="#555555", linewidth=0.6)
        ax.text(
            t / 60.0,
            0.97,
            f" {phase}",
            transform=ax.get_xaxis_transform(),
            fontsize=5,
            va="top",
            color="#333333",
        )
    for e in s.events:
        if e.get("kind") != "link":
            ax.axvline(time_of(e) / 60.0, color="#999999", linewidth=0.4, linestyle=":")
    for episode in s.episodes:
        colour = PRIORITY_COLOURS.get(episode.priority, "#d62728")
        x0 = episode.onset_t / 60.0
        x1 = (episode.end_t if episode.end_t is not None else s.duration_s) / 60.0
        ax.axvspan(x0, max(x1, x0 + 0.05), ymin=0.0, ymax=0.04, color=colour, linewidth=0)


def _limit_lines(s: Summary, ax: Axes, source: str, values: tuple[str, ...]) -> None:
    for use in s.limits:
        if use.rule.source != source or use.rule.value not in values:
            continue
        xs, ys = [], []
        for i, (t, threshold, enabled) in enumerate(use.steps):
            end = use.steps[i + 1][0] if i + 1 < len(use.steps) else s.duration_s
            xs += [t / 60.0, end / 60.0]
            ys += [threshold if enabled else np.nan] * 2
        critical = "CRITICAL" in use.rule.alarm_id
        ax.plot(
            xs,
            ys,
            color="#d62728" if critical else "#e6a700",
            linewidth=0.7,
            linestyle="--",
            label=f"{use.rule.alarm_id} {use.rule.op} {use.steps[0][1]:g}",
        )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(
            fontsize=4.5,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=3,
            frameon=False,
            borderaxespad=0.1,
        )


def _fit_y(ax: Axes, values: list[float], s: Summary, source: str, keys: tuple[str, ...]) -> None:
    """Room for the data and the limits in force, with a margin for the alarm bars."""
    limits = [
        th
        for u in s.limits
        if u.rule.source == source and u.rule.value in keys
        for _, th, _ in u.steps
    ]
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return
    lo, hi = min(finite), max(finite)
    near = [th for th in limits if lo - 0.5 * (hi - lo + 10) <= th <= hi + 0.5 * (hi - lo + 10)]
    lo, hi = min([lo, *near]), max([hi, *near])
    pad = max((hi - lo) * 0.12, 1.0)
    ax.set_ylim(lo - pad, hi + pad)


def _finish(fig: Figure) -> Image:
    fig.subplots_adjust(left=0.065, right=0.975, top=0.80, bottom=0.22)
    return _png(fig)


def _trend(ax: Axes, t: np.ndarray, v: np.ndarray) -> None:
    """Short sessions: every second. Long ones: each bin's range shaded and its median,
    so a brief dip still shows but the line stays readable."""
    if len(t) <= TREND_POINTS:
        ax.plot(t, v, color="#1f77b4", linewidth=0.7)
        return
    size = -(-len(t) // TREND_POINTS)
    n = len(t) // size * size
    bins_t = t[:n].reshape(-1, size).mean(axis=1)
    bins_v = v[:n].reshape(-1, size)
    with warnings.catch_warnings():  # an all-missing bin stays a gap (NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, mid, hi = (
            np.nanmin(bins_v, axis=1),
            np.nanmedian(bins_v, axis=1),
            np.nanmax(bins_v, axis=1),
        )
    ax.fill_between(bins_t, lo, hi, color="#1f77b4", alpha=0.25, linewidth=0)
    ax.plot(bins_t, mid, color="#1f77b4", linewidth=0.7)


def _numeric_plot(s: Summary, key: str) -> Image:
    fig, ax = _axes(s)
    t = np.array([time_of(r) for r in s.numerics]) / 60.0
    v = np.array(
        [r.get(key) if isinstance(r.get(key), int | float) else np.nan for r in s.numerics],
        dtype=float,
    )
    _trend(ax, t, v)
    _fit_y(ax, list(v), s, "numerics", (key,))
    _limit_lines(s, ax, "numerics", (key,))
    _mark_events(s, ax)
    return _finish(fig)


def _nibp_plot(s: Summary) -> Image:
    fig, ax = _axes(s)
    values: list[float] = []
    for key, colour, marker in (
        ("sys", "#d62728", "v"),
        ("map", "#2ca02c", "o"),
        ("dia", "#1f77b4", "^"),
    ):
        pts = [(time_of(r) / 60.0, r[key]) for r in s.nibp if isinstance(r.get(key), int | float)]
        if pts:
            xs, ys = zip(*pts, strict=True)
            values += [float(y) for y in ys]
            ax.plot(
                xs, ys, linestyle="-", linewidth=0.4, marker=marker, markersize=2.5, color=colour
            )
    _fit_y(ax, values, s, "nibp", ("sys", "dia", "map"))
    _limit_lines(s, ax, "nibp", ("sys", "dia", "map"))
    _mark_events(s, ax)
    return _finish(fig)


# -- sections --------------------------------------------------------------------------------


def _header(s: Summary, path: Path) -> list[Flowable]:
    meta = s.meta
    source = fields_of(meta.get("source"))
    src = "; ".join(f"{k}: {v}" for k, v in source.items()) or "-"
    end = s.wall(s.duration_s)
    rows: list[list[object]] = [
        ["Patient id", s.setup.get("patient_id", "not recorded")],
        ["Weight", f"{s.setup['weight_kg']} kg" if "weight_kg" in s.setup else "not recorded"],
        ["Session id", meta.get("session_id", "-")],
        ["Session file", path.name],
        ["Start", f"{s.wall_start.strftime('%Y-%m-%d %H:%M:%S')} UTC"],
        ["End", f"{end.strftime('%Y-%m-%d %H:%M:%S')} UTC (duration {_dur(s.duration_s)})"],
        ["Source", src],
        ["Devices", ", ".join(f"{k}: {v}" for k, v in fields_of(meta.get("protocols")).items())],
        ["Recorded by", f"vitalmon {meta.get('vitalmon_version', '?')}"],
    ]
    if not meta.get("closed_cleanly"):
        rows.append(
            [
                "Note",
                "the recording ended abruptly (the monitor stopped without "
                "closing the file); data up to the last second written is shown",
            ]
        )
    return [Paragraph("Infusion session report", H1), _table(rows, [4 * cm, 13 * cm])]


def _phases(s: Summary) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Phases", H2)]
    if not s.phases:
        return [*out, _none("no phases were set during this session")]
    rows: list[list[object]] = [["Phase", "Start", "End", "Duration"]]
    rows += [[p, _clock(s, a), _clock(s, b), _dur(b - a)] for p, a, b in s.phases]
    return [*out, _table(rows, [5 * cm, 3 * cm, 3 * cm, 3 * cm])]


def _doses(s: Summary) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Dose timeline", H2)]
    if not s.doses:
        return [*out, _none("no dose, rate change or bolus was recorded")]
    rows: list[list[object]] = [["Time", "Dose / infusion"]]
    rows += [[_clock(s, t), text] for t, text in s.doses]
    return [*out, _table(rows, [3 * cm, 14 * cm])]


def _key_figures(s: Summary) -> list[Flowable]:
    rows: list[list[object]] = [["Figure", "Value", "At"]]
    units = {
        "min SpO2": "%",
        "max pulse rate": "/min",
        "min pulse rate": "/min",
        "max systolic": "mmHg",
        "max diastolic": "mmHg",
    }
    for name, found in s.extremes.items():
        if found is None:
            rows.append([name, "no value", "-"])
        else:
            rows.append([name, f"{found[0]:g} {units[name]}", _clock(s, found[1])])
    return [Paragraph("Key figures", H2), _table(rows, [5 * cm, 4 * cm, 3 * cm])]


def _limits(s: Summary) -> list[Flowable]:
    rows: list[list[object]] = [["Limit", "Condition", "Beyond the limit", "Of"]]
    for use in s.limits:
        threshold = use.steps[0][1]
        changed = " (changed during session)" if len(use.steps) > 1 else ""
        condition = f"{use.rule.value} {use.rule.op} {threshold:g}{changed}"
        if not use.of:
            rows.append([use.rule.alarm_id, condition, "no value recorded", "-"])
        elif use.rule.source == "numerics":
            share = f" ({100 * use.beyond / use.of:.1f} %)" if use.of else ""
            rows.append(
                [
                    use.rule.alarm_id,
                    condition,
                    f"{_dur(use.beyond)}{share}",
                    f"{_dur(use.of)} with a value",
                ]
            )
        else:
            rows.append(
                [use.rule.alarm_id, condition, f"{use.beyond:g} readings", f"{use.of:g} readings"]
            )
    return [
        Paragraph("Time below / above each limit", H2),
        _table(rows, [5 * cm, 5 * cm, 3.5 * cm, 3.5 * cm]),
    ]


def _nibp_table(s: Summary) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("NIBP readings", H2)]
    if not s.nibp:
        return [*out, _none("no NIBP reading was taken")]
    rows: list[list[object]] = [["Time", "Sys", "Dia", "MAP", "Pulse", "Status"]]
    for r in s.nibp:
        values = [_dash(r.get(key)) for key in ("sys", "dia", "map", "pr")]
        extra = describe(r, ("type", "t", "wall", "sys", "dia", "map", "pr", "status"))
        status = ", ".join(str(x) for x in (r.get("status"), extra) if x) or "-"
        rows.append([_clock(s, time_of(r)), *values, status])
    return [*out, _table(rows, [3 * cm, 2 * cm, 2 * cm, 2 * cm, 2 * cm, 6 * cm])]


def _alarms(s: Summary) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Alarms", H2)]
    if not s.episodes:
        return [*out, _none("no alarm was raised")]
    rows: list[list[object]] = [
        ["Alarm id", "Priority", "Onset", "Duration", "Response", "Message"]
    ]
    for e in s.episodes:
        if e.response_t is not None:
            response = f"{e.response} after {_dur(e.response_t - e.onset_t)}"
        else:
            response = "none"
        duration = _dur(e.duration_s) if e.end_t is not None else "still active at end"
        rows.append([e.alarm_id, e.priority, _clock(s, e.onset_t), duration, response, e.message])
    return [*out, _table(rows, [4.4 * cm, 1.5 * cm, 1.7 * cm, 2.3 * cm, 3.6 * cm, 3.5 * cm])]


def _alarms_off(s: Summary) -> list[Flowable]:
    """Which alarms were switched off, and for how long (docs/clinical.md)."""
    out: list[Flowable] = [Paragraph("Alarms switched off", H2)]
    if not s.alarms_off:
        return [*out, _none("no alarm was switched off")]
    rows: list[list[object]] = [["Alarm id", "Off from", "Until", "Off for"]]
    for a in s.alarms_off:
        end = s.duration_s if a.on_t is None else a.on_t
        until = "end of session (still off)" if a.on_t is None else _clock(s, a.on_t)
        rows.append([a.alarm_id, _clock(s, a.off_t), until, _dur(end - a.off_t)])
    return [*out, _table(rows, [5 * cm, 3 * cm, 5 * cm, 3 * cm])]


ALARM_SETTING_COMMANDS = (
    "acknowledge",
    "pause_audio",
    "pause_alarms",
    "set_limit",
    "restore_preset",
)


def _alarm_settings(s: Summary) -> list[Flowable]:
    """The alarm log's other half: acknowledgements, pauses and limit changes."""
    out: list[Flowable] = [Paragraph("Alarm acknowledgements, pauses and limit changes", H2)]
    rows: list[list[object]] = [["Time", "Action", "Details"]]
    for c in s.commands:
        if c.get("name") in ALARM_SETTING_COMMANDS:
            args = fields_of(c.get("args"))
            details = ", ".join(f"{k}={v}" for k, v in args.items()) or "-"
            rows.append([_clock(s, time_of(c)), c["name"], details])
    if len(rows) == 1:
        return [*out, _none("none")]
    return [*out, _table(rows, [3 * cm, 4 * cm, 10 * cm])]


def _events(s: Summary) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Events", H2)]
    if not s.events:
        return [*out, _none("no event was recorded")]
    rows: list[list[object]] = [["Time", "Event", "Details"]]
    for e in s.events:
        rows.append([_clock(s, time_of(e)), e.get("kind", e.get("type")), describe(e)])
    return [*out, _table(rows, [3 * cm, 4 * cm, 10 * cm])]


def _discharge(s: Summary) -> list[Flowable]:
    """The criteria of monitor/discharge.toml, judged as at the sign-off, and who signed
    off over which unmet criterion and why."""
    rows: list[list[object]] = [["Criterion", "Value", "Assessment"]]
    rows += [list(row) for row in s.discharge]
    verdicts = [v for _, _, v in s.discharge]
    if all(v == "met" for v in verdicts):
        overall = "All discharge criteria met."
    elif any(v == "NOT met" for v in verdicts):
        overall = "Discharge criteria NOT met."
    else:
        overall = "Discharge cannot be fully assessed from this recording."
    out: list[Flowable] = [
        Paragraph("Discharge assessment", H2),
        _table(rows, [7 * cm, 6 * cm, 4 * cm]),
        Spacer(1, 0.2 * cm),
    ]
    if s.sign_off is None:
        return [*out, Paragraph(overall + " Not signed off.", BODY)]
    by = s.sign_off.get("by")
    sign = f" Signed off at {_clock(s, float(s.sign_off['t']))}" + (f" by {by}." if by else ".")  # type: ignore[arg-type]
    out.append(Paragraph(escape(overall + sign), BODY))
    reason = s.sign_off.get("override_reason")
    if reason:
        out.append(Paragraph(escape(f"Signed off with criteria unmet. Reason: {reason}"), BODY))
    return out


def build_story(s: Summary, path: Path) -> list[Flowable]:
    """The report's content, in order (tests read it without rendering)."""
    story: list[Flowable] = [*_header(s, path), *_phases(s), *_doses(s), *_key_figures(s)]
    story.append(Paragraph("Trends", H2))
    for key in s.numeric_keys:
        title = Paragraph(f"<b>{LABELS.get(key, key)}</b>", SMALL)
        story.append(KeepTogether([title, _numeric_plot(s, key), Spacer(1, 0.15 * cm)]))
    title = Paragraph("<b>NIBP (mmHg): systolic \u25bc, MAP \u25cf, diastolic \u25b2</b>", SMALL)
    story.append(KeepTogether([title, _nibp_plot(s), Spacer(1, 0.15 * cm)]))
    story.append(
        Paragraph(
            f"Trends longer than {TREND_POINTS // 60} minutes show the median of each bin "
            "with its range shaded. Dashed lines: alarm limits. Grey lines: phase changes "
            "and events. Coloured bars "
            "along the bottom: alarms (red high, yellow medium, cyan low) from onset to end.",
            SMALL,
        )
    )
    story += [
        *_limits(s),
        *_nibp_table(s),
        *_alarms(s),
        *_alarms_off(s),
        *_alarm_settings(s),
        *_events(s),
    ]
    story += _discharge(s)
    return story


def write_report(reader: SessionReader, out: Path) -> None:
    s = summarize(reader)
    session = str(s.meta.get("session_id", ""))

    def footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(2 * cm, 1.2 * cm, f"vitalmon session {session}")
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.8 * cm,
        title="Infusion session report",
        author="vitalmon",
    )
    doc.build(build_story(s, reader.path), onFirstPage=footer, onLaterPages=footer)
