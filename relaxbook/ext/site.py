"""Sphinx extension for what readers take away from the site, and for its accessibility fixes.

* **Data behind this page**: each page's first cell declares the tables it reads (``book.setup("claims", ...)``);
  this extension parses that call from the page's source and adds a box linking those CSVs, the whole data
  package as a zip and the whole book as a PDF (``make pdf`` puts it at ``_downloads/book.pdf``; the link is a plain
  URL, so a build without the PDF stays strict-clean and only ``make test`` insists on it).
* **Downloads**: after an HTML build, every CSV is copied to ``_downloads/data/`` with text cells that start with
  ``= + - @`` (or a tab / carriage return) prefixed by ``'``, so a spreadsheet never runs them as formulas; numeric
  fields (by their type in ``data/datapackage.json``) are left alone. ``_downloads/data-package.zip`` holds the same
  files with the descriptor, the data README and ``CITATION.cff``; its timestamps are the build date, so it is
  reproducible.
* **Cite and stamp**: ``citation_*`` meta tags on every page (from ``CITATION.cff``), and a build stamp (version,
  commit, build date from ``SOURCE_DATE_EPOCH`` or the commit's date, never the clock) for the footer template
  ``_templates/build-stamp.html``.
* **Accessibility**: docutils writes ``<div role="list" class="citation-list">`` whose children have the deprecated
  ``role="doc-biblioentry"``, so the list has no list items (axe: aria-required-children, critical). The entries
  become ``role="listitem"``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import yaml
from docutils import nodes
from docutils.parsers.rst import Directive

from relaxbook.data import datapkg, paths

DOWNLOADS = "_downloads"
DATA_DIR = f"{DOWNLOADS}/data"
ZIP_NAME = f"{DOWNLOADS}/data-package.zip"
PDF_NAME = f"{DOWNLOADS}/book.pdf"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_TYPES = {"integer", "number", "year", "boolean", "date", "datetime", "time", "yearmonth", "duration"}


# --- declared tables -----------------------------------------------------------------------------------------


def declared_tables(source: str) -> list[str] | None:
    """The table names passed to the ``book.setup(...)`` call in a page's source (None: no call)."""
    return datapkg.declared_tables(source)


# --- spreadsheet-safe CSVs -----------------------------------------------------------------------------------


def neutralise(value: str) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading single quote; other cells are unchanged."""
    return "'" + value if value.startswith(FORMULA_START) else value


def safe_csv(text: str, fields: list[dict]) -> str:
    """The CSV ``text`` with every text cell neutralised; fields typed numeric (or dates) in the schema untouched."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text
    types = {f["name"]: f.get("type", "string") for f in fields}
    textual = [types.get(name, "string") not in NUMERIC_TYPES for name in rows[0]]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if "\r\n" in text else "\n")
    writer.writerow(rows[0])
    for row in rows[1:]:
        writer.writerow([neutralise(v) if i < len(textual) and textual[i] else v for i, v in enumerate(row)])
    return out.getvalue()


def package_files() -> dict[str, bytes]:
    """Name -> bytes of every file offered for download: the safe CSVs, the descriptor, the README, CITATION.cff."""
    package = json.loads(paths.PACKAGE.read_text(encoding="utf-8"))
    files = {}
    for res in package["resources"]:
        text = (paths.DATA / res["path"]).read_text(encoding="utf-8")
        files[res["path"]] = safe_csv(text, res["schema"]["fields"]).encode("utf-8")
    files["datapackage.json"] = paths.PACKAGE.read_bytes()
    for extra in (paths.DATA / "README.md", paths.ROOT / "CITATION.cff"):
        if extra.exists():
            files[extra.name] = extra.read_bytes()
    return files


def write_downloads(outdir: Path, when: datetime | None) -> None:
    files = package_files()
    data_dir = outdir / DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (data_dir / name).write_bytes(content)
    stamp = max(when or datetime(1980, 1, 1, tzinfo=UTC), datetime(1980, 1, 1, tzinfo=UTC))
    with zipfile.ZipFile(outdir / ZIP_NAME, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"data-package/{name}", date_time=stamp.timetuple()[:6])
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])


# --- build stamp and citation metadata -----------------------------------------------------------------------


def _git(*args: str, root: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def citation_metadata(root: Path | None = None) -> dict:
    root = root or paths.ROOT
    cff = root / "CITATION.cff"
    return yaml.safe_load(cff.read_text(encoding="utf-8")) if cff.exists() else {}


def build_info(root: Path | None = None) -> dict:
    """Version, commit and build date. The date is ``SOURCE_DATE_EPOCH`` when set, else the commit's date, so
    rebuilding the same commit gives the same pages; without git either, the date is unknown (never the clock)."""
    root = root or paths.ROOT
    meta = citation_metadata(root)
    commit = _git("rev-parse", "HEAD", root=root)
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or _git("log", "-1", "--format=%ct", root=root)
    when = datetime.fromtimestamp(int(epoch), tz=UTC) if epoch else None
    return {
        "version": str(meta.get("version", "unversioned")),
        "commit": commit,
        "commit_short": commit[:10] if commit else "unknown",
        "date": when.strftime("%Y-%m-%d") if when else "unknown",
        "datetime": when,
    }


def _author_name(author: dict) -> str:
    if "family-names" in author:
        return ", ".join(filter(None, [author["family-names"], author.get("given-names")]))
    return author.get("name", "")


def citation_meta_tags(page_title: str | None, is_root: bool, meta: dict) -> str:
    """Highwire-style ``citation_*`` meta tags read by Zotero, Mendeley and Google Scholar."""
    book = meta.get("title", "")
    tags = [("citation_title", book if is_root or not page_title else page_title)]
    if not is_root:
        tags.append(("citation_book_title", book))
    tags += [("citation_author", _author_name(a)) for a in meta.get("authors", [])]
    released = str(meta.get("date-released", ""))
    if released:
        tags.append(("citation_publication_date", released.replace("-", "/")))
    tags.append(("citation_language", "en"))
    return "".join(f'<meta name="{n}" content="{html.escape(str(v), quote=True)}" />\n' for n, v in tags if v)


# --- Sphinx hooks --------------------------------------------------------------------------------------------

_LIST = re.compile(r'<div role="list" class="citation-list">')
_ENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def fix_citation_lists(body: str) -> str:
    """Give the bibliography's ``role="list"`` real list items (docutils writes deprecated biblioentry roles)."""
    return _ENTRY.sub(r'\1 role="listitem"', body) if _LIST.search(body) else body


def _link(text: str, uri: str) -> nodes.reference:
    return nodes.reference("", text, refuri=uri, internal=True)


def data_box(tables: list[str], prefix: str) -> nodes.Element:
    """One compact line: the tables this page is computed from (linked, titled), the whole data package, the PDF."""
    package = json.loads(paths.PACKAGE.read_text(encoding="utf-8"))
    by_name = {r["name"]: r for r in package["resources"]}
    box = nodes.container(classes=["data-downloads"])
    para = nodes.paragraph()
    para += nodes.strong("", "Data behind this page: ")
    for i, name in enumerate(tables):
        res = by_name[name]
        link = _link(res["path"], f"{prefix}{DATA_DIR}/{res['path']}")
        link["reftitle"] = res.get("title", res["path"])
        para += [nodes.Text(" · ")] if i else []
        para += link
    if not tables:
        para += nodes.Text("no data tables")
    para += nodes.Text(" — ")
    para += _link("all data (zip, with schemas)", prefix + ZIP_NAME)
    para += nodes.Text(" · ")
    para += _link("the book (PDF)", prefix + PDF_NAME)
    para += nodes.Text(". Downloaded text cells starting with = + - @ are prefixed with '.")
    box += para
    return box


def _add_data_box(app, doctree, docname) -> None:
    if app.builder.name != "html":
        return  # the single-page build is printed to PDF, where relative download links would not work
    source = Path(app.env.doc2path(docname)).read_text(encoding="utf-8")
    tables = declared_tables(source) or []
    prefix = "../" * docname.count("/")
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    index = next((i for i, child in enumerate(top.children) if isinstance(child, nodes.section)), len(top.children))
    top.insert(index, data_box(tables, prefix))


def _page_context(app, pagename, templatename, context, doctree) -> None:
    info = app.relaxbook_build
    context["relaxbook_build"] = info
    context["relaxbook_citation"] = app.relaxbook_citation
    if "body" in context:
        context["body"] = fix_citation_lists(context["body"])
    if doctree is not None:
        meta = app.relaxbook_citation
        context["metatags"] = context.get("metatags", "") + citation_meta_tags(
            context.get("title"), pagename == app.config.root_doc, meta
        )


def _builder_inited(app) -> None:
    root = Path(app.srcdir)
    app.relaxbook_build = build_info(root)
    app.relaxbook_citation = citation_metadata(root)


def _build_finished(app, exception) -> None:
    if exception is None and app.builder.name == "html":
        write_downloads(Path(app.outdir), app.relaxbook_build["datetime"])


def _config_inited(app, config) -> None:
    """The build stamp is an HTML-only setting: when the commit or build date changes, Sphinx rewrites every page
    (footer, How to cite) without re-reading or re-executing any."""
    info = build_info(Path(app.srcdir))
    config.relaxbook_stamp = f"{info['version']} {info['commit']} {info['date']}"


def setup(app):
    app.add_config_value("relaxbook_stamp", "", "html")
    app.add_node(cite_this)
    app.add_directive("cite-this", CiteThis)
    app.connect("config-inited", _config_inited)
    app.connect("doctree-resolved", _fill_citations)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _add_data_box)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


# --- the How to cite page: ```{cite-this}``` ---------------------------------------------------------------------


class cite_this(nodes.General, nodes.Element):
    """Placeholder for the recommended citation, filled in when the page is written (so it shows this build)."""


class CiteThis(Directive):
    """``{cite-this}``: the recommended citation of the book (text and BibTeX) from ``CITATION.cff`` and the build."""

    def run(self):
        return [cite_this()]


def citation_text(meta: dict, info: dict) -> tuple[str, str]:
    """The recommended citation as plain text and as BibTeX."""
    authors = [_author_name(a) for a in meta.get("authors", [])]
    year = str(meta.get("date-released", ""))[:4] or "n.d."
    commit = f", commit {info['commit_short']}" if info["commit"] else ""
    text = (
        f"{'; '.join(authors)} ({year}). {meta.get('title', '')} (version {meta.get('version', '')}"
        f"{commit}). {meta.get('type', 'dataset').capitalize()}."
    )
    key = re.sub(r"\W", "", (authors[0].split()[-1] if authors else "book").lower()) + year
    bibtex = "\n".join(
        [
            f"@misc{{{key},",
            f"  author = {{{{{' and '.join(authors)}}}}},",
            f"  title = {{{{{meta.get('title', '')}}}}},",
            f"  year = {{{year}}},",
            f"  version = {{{meta.get('version', '')}}},",
            f"  note = {{Build of {info['date']}{commit}}}",
            "}",
        ]
    )
    return text, bibtex


def _fill_citations(app, doctree, docname) -> None:
    for node in list(doctree.findall(cite_this)):
        text, bibtex = citation_text(app.relaxbook_citation, app.relaxbook_build)
        block = nodes.literal_block(bibtex, bibtex, language="bibtex")
        node.replace_self([nodes.paragraph(text, text), block])
