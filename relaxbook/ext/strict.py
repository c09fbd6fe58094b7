"""Strict builds by hand: ``jupyter-book build .`` fails (non-zero exit) on the problems ``make book`` fails on.

* Every warning Sphinx reports (an unknown citation key, an unknown claim id, a broken reference...) is kept;
  when the build ends with any, the build's status is set to failed and the warnings are repeated in its last
  lines. The saved environment is dropped too, as Sphinx does after an error, so the next build reads every page
  again and fails again until the cause is fixed (execution stays cached).
* Every page must follow the chapter contract (:func:`contract_problems`); a breach is a warning on that page.
* Every chapter file in ``chapters/`` (bar ``_*.md`` partials) must be listed in ``_toc.yml``: Jupyter Book silently
  leaves an unlisted page out of the book.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import yaml
from sphinx.util import logging as sphinx_logging

logger = sphinx_logging.getLogger(__name__)
FIGURE = re.compile(r"```\{glue:figure\}[^\n]*\n(.*?)```", re.S)


def contract_problems(text: str, tables: set[str], is_reference_list: bool = False) -> list[str]:
    """What the page source ``text`` breaks of the chapter contract (CONTRIBUTING.md); ``tables``: the names in
    the data package."""
    from relaxbook.data.datapkg import declared_tables

    problems = []
    meta = yaml.safe_load(text.split("---\n")[1]) if text.startswith("---\n") else None
    if not isinstance(meta, dict) or (meta.get("kernelspec") or {}).get("name") != "python3":
        problems.append("no front matter with kernelspec 'python3' (copy chapters/_template.md)")
    elif ((meta.get("jupytext") or {}).get("text_representation") or {}).get("format_name") != "myst":
        problems.append(
            "front matter lacks jupytext's text_representation with format_name 'myst' (myst-nb then "
            "does not run it as a notebook; copy chapters/_template.md)"
        )
    body = text.split("---\n", 2)[2].lstrip() if meta else text
    if not re.match(r"\([a-z][a-z0-9-]*\)=\n# \S", body):
        problems.append("expected a '(label)=' line, then the '# Title'")
    if not re.search(r"```\{include\} (chapters/)?_notice\.md", text):
        problems.append("does not include _notice.md")
    try:
        declared = declared_tables(text)
    except (ValueError, SyntaxError) as exc:
        problems.append(f"book.setup(...): {exc}")
        declared = []
    if declared is None:
        problems.append("its first code cell does not call book.setup(...)")
    problems += [
        f"book.setup names '{t}', which is not a table of data/datapackage.json"
        for t in declared or []
        if t not in tables
    ]
    for block in FIGURE.findall(text):
        alt = re.search(r":alt: (.+)", block)
        if not alt or len(alt.group(1)) <= 40:
            problems.append(f"glued figure without alt text of more than 40 characters: {block.strip()[:60]}")
        if ":name: fig-" not in block:
            problems.append(f"glued figure without ':name: fig-...': {block.strip()[:60]}")
    if "```{bibliography}" not in text or ("## References" not in text and not is_reference_list):
        problems.append("does not end with a '## References' section holding a bibliography")
    return problems


def unlisted_chapters(root: Path) -> list[str]:
    """Chapter files (``chapters/*.md``, bar ``_*`` partials) that ``_toc.yml`` does not list."""
    from relaxbook.data.paths import toc_pages

    listed = set(toc_pages(root))
    return sorted(
        f"chapters/{p.stem}"
        for p in (root / "chapters").glob("*.md")
        if not p.name.startswith("_") and f"chapters/{p.stem}" not in listed
    )


class _Collect(logging.Handler):
    """Keeps every warning Sphinx reports (and does not suppress) as one line."""

    def __init__(self, app):
        super().__init__(logging.WARNING)
        self.app, self.lines = app, []

    def emit(self, record):
        from sphinx.util.logging import is_suppressed_warning

        try:
            suppressed = self.app.config.suppress_warnings
        except AttributeError:
            suppressed = ()
        if is_suppressed_warning(getattr(record, "type", ""), getattr(record, "subtype", ""), suppressed):
            return
        location = getattr(record, "location", None)
        where = f"{location}: " if isinstance(location, str) and location else ""
        line = f"{where}{record.getMessage()}".splitlines()[0]
        if line not in self.lines:
            self.lines.append(line)


def _check_toc(app) -> None:
    for page in unlisted_chapters(Path(app.srcdir)):
        logger.warning(
            f"{page}.md is not listed in _toc.yml, so it is left out of the book: add it (or rename it "
            "_*.md if it is a partial)",
            type="relaxbook",
            subtype="toc",
        )


def _check_contract(app, docname, source) -> None:
    from relaxbook.data.datapkg import descriptor
    from relaxbook.data.paths import toc_pages

    if docname not in toc_pages(Path(app.srcdir)):
        return

    tables = {r["name"] for r in descriptor()["resources"]}
    for problem in contract_problems(source[0], tables, docname.endswith("references")):
        logger.warning(f"chapter contract: {problem}", location=docname, type="relaxbook", subtype="contract")


def _finish(app, exception) -> None:
    logging.getLogger(sphinx_logging.NAMESPACE).removeHandler(app._relaxbook_warnings)
    lines = app._relaxbook_warnings.lines
    if exception is not None or not lines:
        return
    app.statuscode = 1
    env_pickle = Path(app.doctreedir) / "environment.pickle"
    if env_pickle.exists():
        os.unlink(env_pickle)
    print(f"\nerror: the build reported {len(lines)} warning(s); the book must build without any:", flush=True)
    for line in lines:
        print(f"  {line}", flush=True)


def setup(app):
    handler = _Collect(app)
    logging.getLogger(sphinx_logging.NAMESPACE).addHandler(handler)
    app._relaxbook_warnings = handler
    app.connect("builder-inited", _check_toc)
    app.connect("source-read", _check_contract)
    app.connect("build-finished", _finish, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
