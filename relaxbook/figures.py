"""One figure style for the book, and diagrams drawn from data.

Figures have an opaque white background and dark text, so they stay readable when the theme is dark.
Output is deterministic (no timestamps in PNG metadata) so rebuilds give the same files.
"""

from __future__ import annotations

import io

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
    "svg.hashsalt": "relaxbook",
}
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
    set_matplotlib_formats("png", metadata={"Software": None})


def png(fig):
    """A matplotlib figure as an IPython PNG image with no timestamp metadata (for ``glue``)."""
    import matplotlib.pyplot as plt
    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return Image(data=buf.getvalue(), format="png")


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


def flow_diagram(nodes, edges, rankdir: str = "TB"):
    """A graphviz diagram as a PNG image.

    ``nodes``: iterable of (id, label, kind) where kind picks the shape (drug, target, process, effect, step).
    ``edges``: iterable of (source id, target id, label).
    """
    from IPython.display import Image

    return Image(data=flow_graph(nodes, edges, rankdir).pipe(format="png"), format="png")


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
        format="png",
        graph_attr={"rankdir": rankdir, "bgcolor": "white", "dpi": "96", "fontname": "DejaVu Sans", "nodesep": "0.3"},
        node_attr={"fontname": "DejaVu Sans", "fontsize": "11", "style": "filled,rounded", "margin": "0.15,0.06"},
        edge_attr={"fontname": "DejaVu Sans", "fontsize": "10"},
    )
    for node_id, label, kind in nodes:
        shape, fill, font = shapes.get(kind, shapes["process"])
        g.node(_dot_id(node_id), label=_label(label), shape=shape, fillcolor=fill, fontcolor=font)
    for src, dst, label in edges:
        g.edge(_dot_id(src), _dot_id(dst), label=_label(label) if label else "")
    return g
