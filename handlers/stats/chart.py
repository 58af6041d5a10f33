"""The weekly charts: daily messages, consultations and suggestions, labelled in Chinese.

matplotlib's own fonts have no Chinese glyphs (labels would come out as boxes), so the chart
uses Noto Sans CJK SC (SIL Open Font License) shipped by the `mplfonts` package, or a font
named by JINGMIN_CJK_FONT.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

WIDTH_PX, HEIGHT_PX, DPI = 900, 500, 100
LABELS = {"messages": "群内交流信息（条）", "consultations": "业务咨询（次）", "suggestions": "意见建议（条）"}
WEEKDAYS = "一二三四五六日"


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    env = os.environ.get("JINGMIN_CJK_FONT")
    if env and Path(env).is_file():
        return env
    try:
        import mplfonts
    except ImportError:
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return str(path) if path.is_file() else None


def render_week_chart(path: Path, title: str, start: date, series: dict[str, list[int]]) -> Path:
    """Write a PNG of WIDTH_PX x HEIGHT_PX, one column per day; blocking, so callers run it in a thread."""
    days = len(series["messages"])
    labels = [f"周{WEEKDAYS[(start + timedelta(days=i)).weekday()]}\n{(start + timedelta(days=i)):%m-%d}"
              for i in range(days)]
    return render_chart(path, title, labels, series)


def render_chart(path: Path, title: str, labels: list[str], series: dict[str, list[int]], *,
                 slanted: bool = False) -> Path:
    """Messages as bars, consultations and suggestions as lines over `labels` (days, communities).
    `slanted`: long labels (community names) written at an angle."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font_file = cjk_font_path()
    font = font_manager.FontProperties(fname=font_file) if font_file else font_manager.FontProperties()
    x = list(range(len(labels)))

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    ax = fig.add_subplot()
    bars = ax.bar(x, series["messages"], color="#9ecae1", label=LABELS["messages"])
    ax.set_ylabel(LABELS["messages"], fontproperties=font)
    ax.set_xticks(x, labels)
    for label in ax.get_xticklabels():
        label.set_fontproperties(font)
        if slanted:
            label.set_rotation(35)
            label.set_horizontalalignment("right")
            label.set_fontsize(8)
    right = ax.twinx()
    lines = [right.plot(x, series[m], marker="o", color=c, label=LABELS[m])[0]
             for m, c in (("consultations", "#e6550d"), ("suggestions", "#31a354"))]
    right.set_ylabel("咨询 / 建议", fontproperties=font)
    top = max([1] + series["consultations"] + series["suggestions"])
    right.set_ylim(0, top * 1.25 + 1)
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([1] + series["messages"]) * 1.2)
    ax.set_title(title, fontproperties=font)
    ax.legend(handles=[bars, *lines], prop=font, loc="upper right" if slanted else "upper left", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI)
    return path
