"""Sphinx extension: every glued figure opens full size on click, and links its data (CSV) and its image (SVG).

A figure function returns :class:`relaxbook.figures.Figure`, glued as one output: the image (``image/svg+xml``,
which myst-nb shows) with the rows it draws in the output's metadata (:data:`relaxbook.figures.DATA_KEY`).
``{glue:figure}`` (myst-nb's directive, subclassed here) attaches those rows to the figure in the page's doctree, so
they come from the same cached execution as the image and are never stale. They are pickled with the doctree, and
every HTML build writes every figure's rows from the environment to ``_downloads/figures/<figure name>.csv`` (text
cells a spreadsheet would run as formulas neutralised, as for the data downloads): a chapter that is neither
executed nor read again still gets its files in a fresh output folder.

In the HTML site the image is a link to the image file (keyboard focusable; its name is the alt text and "open full
size", and the figure's summary from its data when the figure function gives one), and a line under the caption
links "Data (CSV)" and "SVG". The link carries the figure's readable width
(``--readable-width``, from :func:`relaxbook.figures.readable_width`): ``_static/site.css`` never draws the image
narrower, so its smallest text stays legible and a narrow column (a phone) scrolls the figure inside its own box.
The single-page build printed to PDF shows the figure alone (relative download links do not work in a PDF). A glued
figure without rows fails the build.
"""

from __future__ import annotations

import posixpath
import urllib.parse
from pathlib import Path

from docutils import nodes

from relaxbook.ext.site import DOWNLOADS, safe_csv

FIGURE_DIR = f"{DOWNLOADS}/figures"
DATA_KEY = "relaxbook/figure-data"  # relaxbook.figures.DATA_KEY (not imported: extensions use the data layer only)


class figure_link(nodes.General, nodes.Element):
    """Wraps a figure's image: a link to the image file in the HTML site, nothing in other builds."""


class figure_data(nodes.General, nodes.Element):
    """The rows a figure draws (``name``, ``csv``, ``numeric``): its download links in the HTML site."""


def csv_name(name: str) -> str:
    return f"{FIGURE_DIR}/{nodes.make_id(name)}.csv"


def figure_csv(payload: dict) -> str:
    """The downloadable CSV of a figure's rows: text cells neutralised, numeric columns as they are."""
    return safe_csv(payload["csv"], [{"name": c, "type": "number"} for c in payload.get("numeric", [])])


# --- the directive ---------------------------------------------------------------------------------------------


def _directive():
    from myst_nb.core.variables import RetrievalError
    from myst_nb.ext.glue.directives import PasteFigureDirective
    from myst_nb.ext.glue.utils import retrieve_glue_data

    class FigureWithData(PasteFigureDirective):
        """myst-nb's ``{glue:figure}``, plus the glued rows and the link around the image."""

        def run(self):
            result = super().run()
            figure = next((n for n in result if isinstance(n, nodes.figure)), None)
            if figure is None:
                return result  # myst-nb has reported why
            try:
                payload = retrieve_glue_data(self.document, self.arguments[0]).metadata.get(DATA_KEY)
            except RetrievalError:
                return result
            name = self.options.get("name", self.arguments[0])
            if not isinstance(payload, dict) or "csv" not in payload:
                message = (
                    f"figure {name!r} has no data: its figure function must return relaxbook.figures.svg(fig, rows) "
                    "(or another relaxbook.figures.Figure) with the rows it draws"
                )
                return [*result, self.state.document.reporter.warning(message, line=self.lineno)]
            for image in list(figure.findall(nodes.image)):
                if payload.get("summary"):  # the chapter's alt text says what is drawn; the data say what it shows
                    image["alt"] = " ".join(filter(None, [image.get("alt", "").strip(), payload["summary"]]))
                if not isinstance(image.parent, figure_link):
                    link = figure_link()
                    image.replace_self(link)
                    link += image
            figure += figure_data(
                name=name,
                csv=payload["csv"],
                numeric=list(payload.get("numeric", [])),
                readable_width=payload.get("readable_width"),
            )
            return result

    return FigureWithData


# --- collecting the rows, writing the CSVs ---------------------------------------------------------------------


def _env_figures(env) -> dict:
    if not hasattr(env, "relaxbook_figures"):
        env.relaxbook_figures = {}
    return env.relaxbook_figures


def _doctree_read(app, doctree) -> None:
    found = {node["name"]: {"csv": node["csv"], "numeric": node["numeric"]} for node in doctree.findall(figure_data)}
    if found:
        _env_figures(app.env)[app.env.docname] = found


def _purge_doc(app, env, docname) -> None:
    _env_figures(env).pop(docname, None)


def _merge_info(app, env, docnames, other) -> None:
    _env_figures(env).update({d: f for d, f in _env_figures(other).items() if d in docnames})


def write_figure_data(outdir: Path, by_doc: dict) -> list[str]:
    """Write every figure's CSV under ``outdir``; returns the paths written (relative to it)."""
    written = []
    for docname in sorted(by_doc):
        for name, payload in sorted(by_doc[docname].items()):
            path = outdir / csv_name(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(figure_csv(payload), encoding="utf-8", newline="")
            written.append(csv_name(name))
    return written


def _build_finished(app, exception) -> None:
    if exception is None and app.builder.name == "html":
        write_figure_data(Path(app.outdir), _env_figures(app.env))


# --- HTML ------------------------------------------------------------------------------------------------------


def _site(translator) -> bool:
    """Links only in the HTML site (not in the single-page build printed to PDF)."""
    return translator.builder.name == "html"


def _image_uri(translator, image) -> str:
    """The URL of the image file as the page will show it (what Sphinx's visit_image writes)."""
    uri = image["uri"]
    if uri in translator.builder.images:
        return posixpath.join(translator.builder.imgpath, urllib.parse.quote(translator.builder.images[uri]))
    return uri


def _figure_number(translator, figure) -> str:
    """ "Figure 6", as the caption numbers it ("this figure" when it has no number)."""
    ids = figure.get("ids") or [""]
    numbers = translator.builder.fignumbers.get("figure", {}).get(ids[0])
    return "Figure " + ".".join(map(str, numbers)) if numbers else "this figure"


def visit_figure_link(self, node) -> None:
    if _site(self):
        image = next(node.findall(nodes.image))
        data = next(node.parent.findall(figure_data), None)
        width = data.get("readable_width") if data is not None else None
        style = f' style="--readable-width: {int(width)}px"' if width else ""
        self.body.append(
            f'<a class="reference internal image-reference figure-full" href="{_image_uri(self, image)}"{style}>'
        )


def depart_figure_link(self, node) -> None:
    if _site(self):
        which = self.encode(_figure_number(self, node.parent))
        self.body.append(f'<span class="visually-hidden"> (open {which} full size)</span></a>\n')


def visit_figure_data(self, node) -> None:
    if not _site(self):
        raise nodes.SkipNode
    figure = node.parent
    image = next(figure.findall(nodes.image))
    has_caption = any(isinstance(child, nodes.caption) for child in figure.children)
    prefix = "../" * self.builder.current_docname.count("/")
    which = self.encode(_figure_number(self, figure))
    self.body.append("" if has_caption else "<figcaption>\n")  # depart_figure closes it
    self.body.append(
        '<p class="figure-downloads">'
        f'<a class="reference download" href="{prefix}{csv_name(node["name"])}">Data (CSV)'
        f'<span class="visually-hidden"> of {which}</span></a> · '
        f'<a class="reference download" href="{_image_uri(self, image)}">SVG'
        f'<span class="visually-hidden"> of {which}</span></a></p>\n'
    )
    raise nodes.SkipNode


def skip(self, node) -> None:
    raise nodes.SkipNode


def passthrough(self, node) -> None:
    pass


def setup(app):
    app.add_node(
        figure_link,
        html=(visit_figure_link, depart_figure_link),
        latex=(passthrough, passthrough),
        text=(passthrough, passthrough),
    )
    app.add_node(figure_data, html=(visit_figure_data, None), latex=(skip, None), text=(skip, None))
    app.add_directive_to_domain("glue", "figure", _directive(), override=True)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-purge-doc", _purge_doc)
    app.connect("env-merge-info", _merge_info)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
