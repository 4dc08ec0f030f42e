"""Charts of a month report, drawn server-side with matplotlib (Agg, no display) as self-contained SVG text.

Text stays text in the SVG (`svg.fonttype = none`), so the browser draws the Chinese labels with its own fonts
and the charts stay small and selectable; matplotlib only measures them for the layout.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # a server has no display; must precede any figure

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from scheduler import i18n  # noqa: E402
from scheduler.labels import CommunityLabels  # noqa: E402
from scheduler.reports import MonthReport  # noqa: E402

FONT_FAMILIES = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "DejaVu Sans"]
MET_COLOUR = "#2b6cb0"
DEMANDED_COLOUR = "#cbd5e0"
SHORT_COLOUR = "#c53030"

CHART_WORDS = {
    "zh-CN": {
        "coverage_title": "各卫生院需求满足情况（次）",
        "demanded": "需求",
        "met": "已排",
        "load_title": "各科室下沉次数与上限",
        "capacity": "上限",
        "sessions": "已排次数",
        "trips_title": "各卫生院出车趟数（按天合并）",
        "trips": "趟数",
        "links_title": "党委成员挂点完成情况",
        "links_total": "挂点卫生院",
        "links_done": "已完成",
    },
    "en": {
        "coverage_title": "Demand met per township (sessions)",
        "demanded": "demanded",
        "met": "met",
        "load_title": "Sessions per department against capacity",
        "capacity": "capacity",
        "sessions": "sessions",
        "trips_title": "Trips per township (one car per day)",
        "trips": "trips",
        "links_title": "Link visits per committee member",
        "links_total": "linked townships",
        "links_done": "visited",
    },
}


def chart_word(key: str, lang: str) -> str:
    """A chart label in the language."""
    return CHART_WORDS[i18n.parse_lang(lang)][key]


def _figure(rows: int) -> Figure:
    height = max(1.8, 0.8 + 0.32 * rows)
    figure = Figure(figsize=(6.4, height), dpi=100)
    # Fixed margins (room for Chinese township names on the left): constrained layout costs seconds per chart.
    figure.subplots_adjust(left=0.24, right=0.96, top=1 - 0.45 / height, bottom=0.35 / height)
    return figure


def _svg(figure: Figure) -> str:
    output = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rota", "font.family": "sans-serif", "font.sans-serif": FONT_FAMILIES, "font.size": 9}):
        with warnings.catch_warnings():
            # Without a CJK font installed matplotlib warns per glyph while measuring; the browser still draws them.
            warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
            warnings.filterwarnings("ignore", message=".*findfont.*")
            figure.savefig(output, format="svg", metadata={"Date": None, "Creator": None})
    svg = output.getvalue()
    # Scale with the page: the <svg> keeps its viewBox but drops the fixed size.
    return _responsive(svg[svg.index("<svg"):])


def _responsive(svg: str) -> str:
    head, rest = svg.split(">", 1)
    for attribute in ("width", "height"):
        start = head.find(f' {attribute}="')
        if start >= 0:
            end = head.index('"', start + len(attribute) + 3)
            head = head[:start] + head[end + 1:]
    return head + ' role="img" style="max-width:100%;height:auto">' + rest


def _style_axes(axes, title: str) -> None:
    axes.set_title(title, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def _horizontal_pairs(
    title: str, names: Sequence[str], background: Sequence[int], foreground: Sequence[int], back_label: str, front_label: str, *, short_in_red: bool = True
) -> str:
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": FONT_FAMILIES, "font.size": 9}):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
            warnings.filterwarnings("ignore", message=".*findfont.*")
            figure = _figure(len(names))
            axes = figure.add_subplot()
            positions = list(range(len(names)))[::-1]
            axes.barh(positions, background, color=DEMANDED_COLOUR, height=0.7, label=back_label)
            colours = [SHORT_COLOUR if short_in_red and f < b else MET_COLOUR for f, b in zip(foreground, background)]
            axes.barh(positions, foreground, color=colours, height=0.4, label=front_label)
            for position, front, back in zip(positions, foreground, background):
                axes.text(max(front, back), position, f" {front}/{back}", va="center", fontsize=8)
            axes.set_yticks(positions, list(names))
            _style_axes(axes, title)
            axes.margins(x=0.12)
            # Above the plot, right of the title, so it never covers a bar.
            axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, frameon=False, borderaxespad=0.2)
            return _svg(figure)


def coverage_chart(report: MonthReport, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """Met against demanded sessions per township, a red bar where demand is short."""
    rows = [t for t in report.coverage if t.demanded or t.met]
    return _horizontal_pairs(
        chart_word("coverage_title", lang),
        [labels.township(t.township) for t in rows],
        [t.demanded for t in rows],
        [t.met for t in rows],
        chart_word("demanded", lang),
        chart_word("met", lang),
    )


def load_chart(report: MonthReport, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """Sessions against summed capacity per department (all bars blue: spare capacity is not a shortfall)."""
    return _horizontal_pairs(
        chart_word("load_title", lang),
        [labels.department(d.department) for d in report.departments],
        [d.capacity for d in report.departments],
        [d.sessions for d in report.departments],
        chart_word("capacity", lang),
        chart_word("sessions", lang),
        short_in_red=False,  # spare capacity is not a shortfall
    )


def links_chart(report: MonthReport, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """Linked townships visited against linked townships per committee member."""
    return _horizontal_pairs(
        chart_word("links_title", lang),
        [labels.expert(m.member) for m in report.members],
        [len(m.links) for m in report.members],
        [m.links_complied for m in report.members],
        chart_word("links_total", lang),
        chart_word("links_done", lang),
    )


def trips_chart(report: MonthReport, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """Trips (distinct days with a car out) per township."""
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": FONT_FAMILIES, "font.size": 9}):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
            warnings.filterwarnings("ignore", message=".*findfont.*")
            figure = _figure(len(report.trips))
            axes = figure.add_subplot()
            positions = list(range(len(report.trips)))[::-1]
            values = [t.trips for t in report.trips]
            axes.barh(positions, values, color=MET_COLOUR, height=0.6)
            for position, value in zip(positions, values):
                axes.text(value, position, f" {value}", va="center", fontsize=8)
            axes.set_yticks(positions, [labels.township(t.township) for t in report.trips])
            _style_axes(axes, chart_word("trips_title", lang))
            axes.margins(x=0.1)
            return _svg(figure)


def all_charts(report: MonthReport, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> dict[str, str]:
    """Every chart of the report as SVG text, keyed coverage / links / load / trips."""
    return {
        "coverage": coverage_chart(report, labels, lang),
        "links": links_chart(report, labels, lang),
        "load": load_chart(report, labels, lang),
        "trips": trips_chart(report, labels, lang),
    }
