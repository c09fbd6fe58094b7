"""What the book's charts draw: each figure function is run on the real data (and on small synthetic data where
today's data cannot exercise a rule) with ``figures.png`` replaced by a function that keeps the matplotlib figure, and
its artists (texts, colours, positions) are checked."""

from __future__ import annotations

import re

import pytest
from matplotlib.colors import to_hex

from conftest import ROOT


@pytest.fixture
def drawn(monkeypatch):
    """Figure functions return their matplotlib figure instead of a PNG."""
    from relaxbook import figures

    monkeypatch.setattr(figures, "png", lambda fig: fig)


def texts(fig) -> list[str]:
    """Every text a figure draws (texts, tick labels, legend entries, titles), in document order."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


# --- 1. one status palette -------------------------------------------------------------------------------------------


def css_status_colours() -> dict[str, dict[str, str]]:
    """The light-theme badge colours in _static/claims.css by status (``.claim-partly-verified``: partly verified)."""
    css = (ROOT / "_static" / "claims.css").read_text(encoding="utf-8")
    found = {}
    for line in css.splitlines():
        m = re.match(r"\s*\.claim-([a-z-]+)\s*\{\s*color:\s*(#\w{6});\s*background:\s*(#\w{6});", line)
        if m:
            found[m.group(1).replace("-", " ")] = {"text": m.group(2).lower(), "background": m.group(3).lower()}
    return found


def test_badge_palette_is_the_status_palette():
    from relaxbook.data.status import STATUS_COLOURS, STATUSES

    css = css_status_colours()
    assert set(css) == set(STATUSES) == set(STATUS_COLOURS)
    for status in STATUSES:
        assert css[status] == {k: v.lower() for k, v in STATUS_COLOURS[status].items()}, status


def test_claim_status_chart_uses_the_badge_colours_and_writes_the_icons(drawn):
    from matplotlib.patches import Rectangle

    from relaxbook import claims
    from relaxbook.data.status import ICONS, STATUSES

    css = css_status_colours()
    fig = claims.claim_status_figure()
    ax = fig.axes[0]
    legend = {t.get_text(): h for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)}
    for status in STATUSES:  # every status in the legend with its icon, in the badge's colour
        entry = f"{ICONS[status]} {status}"
        assert entry in legend
        assert to_hex(legend[entry].get_facecolor()) == css[status]["text"]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    colours = {to_hex(b.get_facecolor()) for b in bars}
    assert colours <= {c["text"] for c in css.values()}
    counts = claims.claim_counts()
    on_bars = [t for t in texts(fig) if t[:1] in ICONS.values() and t[1:].isdigit()]
    for status in STATUSES:  # the segments' written counts add up to the status's total, icon by icon
        assert sum(int(t[1:]) for t in on_bars if t[0] == ICONS[status]) == counts.get(status, 0)
