"""The bibliography as downloads: ``_downloads/references.bib`` (BibTeX), ``.ris`` (RIS) and ``.json`` (CSL-JSON).

Written after every HTML build from ``references.bib`` and linked by the ``{reference-downloads}`` directive on the
References page. pybtex (already used by sphinxcontrib-bibtex) parses the file, decodes its LaTeX (``M{\\"o}ckel``
becomes ``Möckel``) and writes the BibTeX; rispy writes the RIS. The CSL-JSON is mapped here from pybtex's parse,
field by field: pandoc's BibTeX reader rewrites titles into sentence case (82 of our 110 titles change, drug names
lose their capital) and gives ``@misc`` an empty type, and citeproc-py's BibTeX source ignores ``url``/``urldate``
and stops on a year written ``NA``.

Every entry is exported, in key order, with no timestamps, so two builds give identical files. A field written
``NA`` (unknown) is left out of RIS and CSL-JSON, never exported as a value. An entry whose type has no RIS or
CSL equivalent is exported with the generic type (RIS ``GEN``, CSL ``document``) and an entry without a title is
exported without one; either is named, with the format, in an info line of the build's output (not a warning: it is
not a fault of the book, and the build stays strict).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

DOWNLOADS = "_downloads"
FORMATS = {"BibTeX": "references.bib", "RIS": "references.ris", "CSL-JSON": "references.json"}
NA = "NA"
GENERIC = ("GEN", "document")
# BibTeX type -> (RIS TY, CSL type). ``misc`` is BibTeX's own generic type; a type not listed is exported as GENERIC
# and named in the build's output.
TYPES = {
    "article": ("JOUR", "article-journal"),
    "book": ("BOOK", "book"),
    "booklet": ("PAMP", "pamphlet"),
    "inbook": ("CHAP", "chapter"),
    "incollection": ("CHAP", "chapter"),
    "inproceedings": ("CPAPER", "paper-conference"),
    "conference": ("CPAPER", "paper-conference"),
    "mastersthesis": ("THES", "thesis"),
    "phdthesis": ("THES", "thesis"),
    "techreport": ("RPRT", "report"),
    "unpublished": ("UNPB", "manuscript"),
    "online": ("ELEC", "webpage"),
    "misc": GENERIC,
}
MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
# BibTeX field -> (rispy key, CSL variable), for the fields copied as text.
TEXT_FIELDS = {
    "title": ("title", "title"),
    "journal": ("secondary_title", "container-title"),
    "booktitle": ("secondary_title", "container-title"),
    "volume": ("volume", "volume"),
    "number": ("number", "issue"),
    "edition": ("edition", "edition"),
    "publisher": ("publisher", "publisher"),
    "howpublished": ("publisher", "publisher"),
    "institution": ("publisher", "publisher"),
    "address": ("place_published", "publisher-place"),
    "isbn": ("issn", "ISBN"),
    "issn": ("issn", "ISSN"),
    "note": ("notes", "note"),
}
RAW_FIELDS = {"doi": ("doi", "DOI"), "url": ("urls", "URL"), "pmid": ("accession_number", "PMID")}
RAW_CSL_ONLY = {"pmcid": "PMCID"}


_LATEX = re.compile(r"[\\{}~$%`]|--|''")


def _text(latex: str) -> str:
    """A field's LaTeX as plain text (``M{\\"o}ckel`` -> ``Möckel``, ``\\&`` -> ``&``, ``--`` -> an en dash); text with
    no LaTeX in it skips the decoder (latexcodec is slow on the long notes)."""
    if not _LATEX.search(latex):
        return " ".join(latex.split())
    from pybtex.backends.plaintext import Backend  # named, not looked up: pybtex's plugin lookup scans entry points
    from pybtex.richtext import Text

    latex = re.sub(r"(?<!\\)%", r"\\%", latex)  # a bare % would start a LaTeX comment and cut the text
    return " ".join(Text.from_latex(latex).render(Backend()).split())


def _known(value: str | None) -> bool:
    return value is not None and value.strip("{} ") not in ("", NA)


def _name(person) -> dict | None:
    """A CSL name: ``family``/``given``, or ``literal`` for a braced corporate name; None for unknown or ``others``."""
    last = " ".join(person.last_names)
    if str(person) == "others" or not _known(last):
        return None
    family = _text(" ".join(person.prelast_names + person.last_names))
    given = _text(" ".join(person.first_names + person.middle_names))
    if not given and last.startswith("{") and last.endswith("}"):
        return {"literal": family}
    name = {"family": family, "given": given}
    if person.lineage_names:
        name["suffix"] = _text(" ".join(person.lineage_names))
    return {k: v for k, v in name.items() if v}


def _ris_name(name: dict) -> str:
    if "literal" in name:
        return name["literal"]
    return ", ".join(filter(None, [name["family"], name.get("given"), name.get("suffix")]))


def _date(year: str | None, month: str | None = None) -> list[int] | None:
    if not _known(year) or not re.fullmatch(r"\d{4}", year.strip()):
        return None
    parts = [int(year)]
    if _known(month):
        m = month.strip().lower()[:3]
        parts += [MONTHS[m]] if m in MONTHS else [int(month)] if month.strip().isdigit() else []
    return parts


def _pages(pages: str) -> tuple[str, str | None]:
    first, _, last = re.sub(r"\s*-+\s*", "-", pages.strip()).partition("-")
    return _text(first), _text(last) or None


def convert(key: str, entry) -> tuple[dict, dict, list[str]]:
    """One pybtex entry as a rispy record, a CSL-JSON item and what could not be expressed (as messages)."""
    notes = []
    ris_type, csl_type = TYPES.get(entry.type.lower(), (None, None))
    if ris_type is None:
        ris_type, csl_type = GENERIC
        notes.append(f"type @{entry.type} has no equivalent, exported as RIS {GENERIC[0]} / CSL {GENERIC[1]}")
    ris = {"type_of_reference": ris_type, "id": key}
    csl = {"id": key, "type": csl_type}
    fields = {name.lower(): value for name, value in entry.fields.items()}
    if not _known(fields.get("title")):
        notes.append("it has no title, exported without one")
    for field, (ris_key, csl_key) in TEXT_FIELDS.items():
        if _known(fields.get(field)) and csl_key not in csl:
            ris[ris_key] = [_text(fields[field])] if ris_key == "notes" else _text(fields[field])
            csl[csl_key] = _text(fields[field])
    for field, (ris_key, csl_key) in RAW_FIELDS.items():
        if _known(fields.get(field)):
            ris[ris_key] = [fields[field].strip()] if ris_key == "urls" else fields[field].strip()
            csl[csl_key] = fields[field].strip()
    for field, csl_key in RAW_CSL_ONLY.items():
        if _known(fields.get(field)):
            csl[csl_key] = fields[field].strip()
    if _known(fields.get("pages")):
        first, last = _pages(fields["pages"])
        ris["start_page"], csl["page"] = first, f"{first}-{last}" if last else first
        if last:
            ris["end_page"] = last
    issued = _date(fields.get("year"), fields.get("month"))
    if issued:
        csl["issued"] = {"date-parts": [issued]}
        ris["year"] = str(issued[0])
        ris["date"] = "/".join([str(issued[0]), f"{issued[1]:02d}" if len(issued) > 1 else "", "", ""])
    if _known(fields.get("urldate")):
        accessed = [int(p) for p in re.findall(r"\d+", fields["urldate"])[:3]]
        csl["accessed"] = {"date-parts": [accessed]}
        ris["access_date"] = "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(accessed))
    for role, ris_key in (("author", "authors"), ("editor", "secondary_authors")):
        names = [n for n in map(_name, entry.persons.get(role, [])) if n]
        if names:
            csl[role] = names
            ris[ris_key] = [_ris_name(n) for n in names]
    return ris, csl, notes


def _writer_class():
    from pybtex.database.output.bibtex import Writer

    class BibtexWriter(Writer):
        """pybtex's writer, minus its re-encoding: the values are LaTeX already (``\\&`` must not become ``\\\\&``)."""

        def _encode(self, text):
            return text

    return BibtexWriter


def export(bib_path: str | Path) -> tuple[dict[str, bytes], list[str]]:
    """File name -> bytes of the three exports of ``bib_path``, and one message per entry and format that could not
    be expressed as it is (naming the key and the format)."""
    import rispy
    from pybtex.database import BibliographyData, parse_file

    data = parse_file(str(bib_path), bib_format="bibtex")
    keys = sorted(data.entries, key=str.lower)
    records, items, messages = [], [], []
    for key in keys:
        ris, csl, notes = convert(key, data.entries[key])
        records.append(ris)
        items.append(csl)
        messages += [f"{key}: {fmt}: {note}" for note in notes for fmt in ("RIS", "CSL-JSON")]
    stream = io.StringIO()
    _writer_class()(encoding="UTF-8").write_stream(BibliographyData({key: data.entries[key] for key in keys}), stream)
    bibtex = stream.getvalue()
    files = {
        FORMATS["BibTeX"]: bibtex.encode("utf-8"),
        FORMATS["RIS"]: rispy.dumps(records).encode("utf-8"),
        FORMATS["CSL-JSON"]: (json.dumps(items, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8"),
    }
    return files, messages


# --- Sphinx --------------------------------------------------------------------------------------------------


def _bib_path(app) -> Path:
    files = getattr(app.config, "bibtex_bibfiles", None) or ["references.bib"]
    return Path(app.srcdir) / files[0]


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    files, messages = export(_bib_path(app))
    out = Path(app.outdir) / DOWNLOADS
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_bytes(content)
    for message in messages:
        logger.info(f"references export: {message}")


class reference_downloads(nodes.General, nodes.Element):
    """Placeholder for the download line; its links are made relative to the page when the page is resolved."""


class ReferenceDownloads(Directive):
    """``{reference-downloads}``: one line linking the bibliography as BibTeX, RIS and CSL-JSON."""

    def run(self):
        return [reference_downloads()]


def download_line(prefix: str) -> nodes.paragraph:
    para = nodes.paragraph(classes=["reference-downloads"])
    para += nodes.strong("", "Download all references: ")
    for i, (label, name) in enumerate(FORMATS.items()):
        para += [nodes.Text(" · ")] if i else []
        para += nodes.reference("", label, refuri=f"{prefix}{DOWNLOADS}/{name}", internal=True)
    return para


def _fill(app, doctree, docname) -> None:
    for node in list(doctree.findall(reference_downloads)):
        node.replace_self(download_line("../" * docname.count("/")) if app.builder.name == "html" else [])


def setup(app):
    app.add_node(reference_downloads)
    app.add_directive("reference-downloads", ReferenceDownloads)
    app.connect("doctree-resolved", _fill)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
