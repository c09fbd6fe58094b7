"""Draw the site's link-preview image once: ``python -m relaxbook.tools.og_image`` writes ``_static/og-image.png``
(1200x630 px, the OpenGraph size). The PNG is committed; the build only links it (``ogp_image`` in ``_config.yml``)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

SIZE = (1200, 630)
DPI = 100


def draw(out: Path, title: str, subtitle: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, facecolor="#f7f5ef")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, SIZE[0])
    ax.set_ylim(0, SIZE[1])
    ax.add_patch(plt.Rectangle((0, 0), 24, SIZE[1], color="#1f5f8b"))
    for i, (mark, colour) in enumerate([("✔", "#2e7d32"), ("◐", "#8a6d00"), ("✖", "#b3261e"), ("?", "#555555")]):
        ax.text(90 + i * 70, 470, mark, fontsize=40, color=colour, va="center", family="DejaVu Sans")
    head, _, tail = title.partition(": ")
    ax.text(90, 350, head + ":", fontsize=34, weight="bold", color="#1b1b1b", va="center", family="DejaVu Sans")
    ax.text(90, 280, tail, fontsize=30, color="#1b1b1b", va="center", family="DejaVu Sans")
    ax.text(90, 150, subtitle, fontsize=20, color="#444444", va="center", family="DejaVu Sans", wrap=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor=fig.get_facecolor(), metadata={"Software": None})
    plt.close(fig)
    return out


def main(root: Path = Path(".")) -> None:
    meta = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    subtitle = "Every statement of a vendor's guide checked against primary records"
    print(draw(root / "_static" / "og-image.png", meta["title"], subtitle))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
