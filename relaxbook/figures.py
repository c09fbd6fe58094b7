"""One figure style for the book, and diagrams drawn from data.

Every figure is an SVG with real text (matplotlib ``svg.fonttype: none``, graphviz and RDKit text elements), so it
stays sharp at any zoom and in the PDF. Figures have an opaque white background and dark text, so they stay readable
when the theme is dark. Output is deterministic (fixed SVG ids, no dates), so rebuilds give the same files.

A figure function returns a :class:`Figure`: the image and the rows it draws, glued as one output.
``relaxbook.ext.figures`` links those rows under the figure as a CSV (never stale: they come from the same cached
execution as the image).
"""

from __future__ import annotations

import io

# The output metadata key under which a figure's rows travel with its image (read by relaxbook.ext.figures).
DATA_KEY = "relaxbook/figure-data"
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "relaxbook"}  # text stays text; ids are the same every build
STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "text.color": "#1a1a1a",
    "axes.labelcolor": "#1a1a1a",
    "xtick.color": "#1a1a1a",
    "ytick.color": "#1a1a1a",
    "font.size": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 110,
    **SVG_RC,
}
# The smallest text a figure may show, in CSS pixels, at any screen width: where the column is too narrow for that
# (a phone), the figure keeps the width that gives it and scrolls sideways inside its own box (relaxbook.ext.figures).
READABLE_PX = 10
SMALL = 10  # the smallest font size a chart uses (labels, notes), so that drawn at its own width it is READABLE_PX
# Colour-blind-safe palette (Okabe-Ito); status and drug colours are always paired with text labels.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def use_style() -> None:
    """Apply the book's matplotlib style (call once per chapter)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    plt.rcParams.update(STYLE)
    plt.rcParams["axes.prop_cycle"] = plt.cycler(color=PALETTE)
    set_matplotlib_formats("svg", metadata={"Date": None})


class Figure:
    """A figure to ``glue``: its SVG and the rows it draws, as one output (the image as ``image/svg+xml``, the rows
    in the output's metadata under :data:`DATA_KEY`, which myst-nb passes through untouched), and optionally a
    summary in words of what they show, which the page appends to the figure's alt text. The rows are a CSV
    (``NA`` for unknown) and the names of its numeric columns (the site's download leaves those as they are and
    neutralises text cells a spreadsheet would run as formulas)."""

    def __init__(self, svg_text: str, rows, summary: str | None = None):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        self.svg = svg_text
        self.rows = rows.reset_index(drop=True)
        self.csv = self.rows.to_csv(index=False, na_rep="NA", lineterminator="\n")
        self.numeric = [
            str(c) for c in self.rows.columns if is_numeric_dtype(self.rows[c]) and not is_bool_dtype(self.rows[c])
        ]
        self.readable_width = readable_width(svg_text)
        self.summary = summary  # what the data show, in words: appended to the chapter's alt text (ext/figures.py)

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"image/svg+xml": self.svg, "text/plain": repr(self)}
        meta = {
            "csv": self.csv,
            "numeric": self.numeric,
            "readable_width": self.readable_width,
            "summary": self.summary,
        }
        return data, {DATA_KEY: meta}

    def __repr__(self) -> str:
        return f"<figure: SVG, {len(self.rows)} rows of data>"


def readable_width(svg_text: str) -> int | None:
    """The narrowest width (CSS px) at which the SVG's smallest text is :data:`READABLE_PX` tall: its drawing width
    (viewBox) times READABLE_PX over its smallest font size (both in the drawing's units). None without text."""
    import math
    import re

    box = re.search(r"viewBox=[\"']\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)", svg_text)
    sizes = [float(s) for s in re.findall(r"font-size\s*[:=]\s*[\"']?\s*([\d.]+)", svg_text)]
    if box is None or not sizes or min(sizes) <= 0:
        return None
    return math.ceil(float(box.group(1)) * READABLE_PX / min(sizes))


def svg(fig, rows, summary: str | None = None) -> Figure:
    """A matplotlib figure as an SVG with real text and no date, with the rows it draws (a DataFrame), for ``glue``.
    ``summary``: what the rows show, in words, for the alt text. The figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with plt.rc_context(SVG_RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return Figure(buf.getvalue(), rows, summary)


def molecule_grid(
    mols, legends, rows, per_row: int = 5, size: tuple[int, int] = (260, 220), options: dict | None = None
) -> Figure:
    """RDKit structures in a grid, one legend under each, as an SVG whose labels are text (not glyph outlines).
    ``options``: RDKit ``MolDrawOptions`` to set by name (e.g. ``{"legendFontSize": 30}``)."""
    from rdkit.Chem.Draw import rdMolDraw2D

    lines = -(-len(mols) // per_row)
    drawer = rdMolDraw2D.MolDraw2DSVG(size[0] * min(per_row, len(mols)), size[1] * lines, size[0], size[1], True)
    for name, value in (options or {}).items():
        setattr(drawer.drawOptions(), name, value)
    drawer.DrawMolecules(list(mols), legends=list(legends))
    drawer.FinishDrawing()
    return Figure(drawer.GetDrawingText(), rows)


def plain_numbers(axis) -> None:
    """Tick labels of a (log) axis as plain numbers: 0.5, 1, 10, 100 rather than mathtext such as 10^1."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))


def _dot_id(text: str) -> str:
    """A DOT node id for the node named ``text``: letters and digits only. The text itself is the label. (graphviz
    reads ``a:b`` in an edge as node ``a``, port ``b``: ids taken from data such as "Period 1: baclofen" created
    stray nodes and left the real ones unconnected.)"""
    import hashlib

    return "n" + hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:16]


def flow_diagram(nodes, edges, rankdir: str = "TB", rows=None) -> Figure:
    """A graphviz diagram as an SVG with real text, with the rows it draws: by default one row per box and per
    arrow (:func:`flow_rows`).

    ``nodes``: iterable of (id, label, kind) where kind picks the shape (drug, target, process, effect, step).
    ``edges``: iterable of (source id, target id, label), optionally with a dict of graphviz edge attributes as a
    fourth item (layout only, e.g. ``{"minlen": "2"}`` to draw the target two ranks down).
    """
    import re

    nodes, edges = list(nodes), list(edges)
    drawn = flow_graph(nodes, edges, rankdir).pipe(format="svg").decode("utf-8")
    # graphviz titles every box and arrow with its internal id (a hash), which a viewer shows as a tooltip
    drawn = re.sub(r"<!-- (?!Generated by)[^>]*-->\n?|<title>[^<]*</title>\n?", "", drawn)
    return Figure(drawn, flow_rows(nodes, edges) if rows is None else rows)


def flow_rows(nodes, edges):
    """What a diagram draws, as rows: each box (its text and kind), then each arrow (from, to, its text)."""
    import pandas as pd

    label = {node_id: str(text) for node_id, text, _kind in nodes}
    boxes = [{"part": "box", "text": str(text), "kind": kind, "from": None, "to": None} for _, text, kind in nodes]
    arrows = [
        {"part": "arrow", "text": str(text) if text else None, "kind": None, "from": label[a], "to": label[b]}
        for a, b, text, *_ in edges
    ]
    return pd.DataFrame(boxes + arrows, columns=["part", "text", "kind", "from", "to"])


def _label(text) -> str:
    """Label text from data, shown literally: no HTML-like label (``<...>``), no backslash escapes (``\\N``)."""
    import graphviz

    return graphviz.escape(str(text))


def flow_graph(nodes, edges, rankdir: str = "TB"):
    """The ``graphviz.Digraph`` behind :func:`flow_diagram` (its ``.source`` is the DOT text)."""
    import graphviz

    shapes = {
        "drug": ("box", "#0072B2", "white"),
        "target": ("ellipse", "#E69F00", "black"),
        "process": ("box", "#F2F2F2", "black"),
        "effect": ("box", "#009E73", "white"),
        "step": ("box", "#F2F2F2", "black"),
        "decision": ("diamond", "#FFF2CC", "black"),
        "excluded": ("box", "#FDE2D2", "black"),
    }
    g = graphviz.Digraph(
        format="svg",
        graph_attr={"rankdir": rankdir, "bgcolor": "white", "fontname": "DejaVu Sans", "nodesep": "0.3"},
        node_attr={"fontname": "DejaVu Sans", "fontsize": "11", "style": "filled,rounded", "margin": "0.15,0.06"},
        edge_attr={"fontname": "DejaVu Sans", "fontsize": "10"},
    )
    for node_id, label, kind in nodes:
        shape, fill, font = shapes.get(kind, shapes["process"])
        g.node(_dot_id(node_id), label=_label(label), shape=shape, fillcolor=fill, fontcolor=font)
    for src, dst, label, *layout in edges:  # an optional fourth item: graphviz edge attributes (e.g. minlen)
        g.edge(_dot_id(src), _dot_id(dst), label=_label(label) if label else "", **(layout[0] if layout else {}))
    return g
