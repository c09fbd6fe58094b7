"""Sphinx extension: a data-aware execution cache.

jupyter-cache keys a notebook on its code cells only, so after a CSV edit it would serve the old outputs (old
numbers) even with ``--all``. This extension makes each chapter's cache key cover everything the chapter's output
depends on:

* the ``data/`` tables named in the chapter's ``book.setup("table", ...)`` call (``relaxbook.datapkg.load`` refuses
  any other table, so the declaration is complete; a page with code but no ``setup`` call depends on every table);
* ``data/datapackage.json`` (schemas change how tables load), ``references.bib`` and the helper package's code.

On ``source-read`` it appends a hidden code cell holding the hash of those files, so the notebook's jupyter-cache
key changes exactly when one of them does, and declares them as Sphinx dependencies. On ``env-get-outdated`` it
re-reads pages whose hash changed (incremental builds without ``--all`` would otherwise keep the old page).
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

SETUP_CALL = re.compile(r"\bbook\.setup\(([^)]*)\)")
CELL_MARK = "# relaxbook.cache inputs:"
BUILD_ONLY = {"cache.py", "bench.py"}  # helper modules no chapter imports: editing them re-executes nothing


def declared_tables(text: str) -> list[str] | None:
    """Table names of the page's ``book.setup(...)`` call(s); None when the page has no such call."""
    calls = SETUP_CALL.findall(text)
    if not calls:
        return None
    names: list[str] = []
    for args in calls:
        names += [a.value for a in ast.parse(f"f({args})").body[0].value.args
                  if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return names


def is_notebook(text: str) -> bool:
    """A MyST text notebook: front matter with a kernelspec (otherwise myst-nb never executes it)."""
    return text.startswith("---") and re.search(r"^kernelspec:", text.split("\n---", 1)[0], re.M) is not None


def dependencies(text: str, bibfiles=()) -> list[Path]:
    """Every file the outputs of the page ``text`` depend on, besides the page itself."""
    import relaxbook
    from relaxbook import paths

    package = json.loads(paths.PACKAGE.read_text(encoding="utf-8"))
    by_name = {res["name"]: res["path"] for res in package["resources"]}
    names = declared_tables(text)
    tables = sorted(by_name.values()) if names is None else sorted({by_name[n] for n in names if n in by_name})
    helper = sorted(p for p in Path(relaxbook.__file__).resolve().parent.glob("*.py") if p.name not in BUILD_ONLY)
    bibs = dict.fromkeys([paths.BIB.resolve(), *(Path(b).resolve() for b in bibfiles)])
    return [paths.PACKAGE, *bibs, *helper, *(paths.DATA / t for t in tables)]


def digest(files, memo: dict | None = None) -> str:
    """One hash over the names and contents of ``files`` (a missing file hashes as missing)."""
    memo = {} if memo is None else memo
    total = hashlib.sha256()
    for f in files:
        if f not in memo:
            memo[f] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else "missing"
        total.update(f"{f.name}:{memo[f]}\n".encode())
    return total.hexdigest()[:20]


def hash_cell(value: str) -> str:
    return f"\n\n```{{code-cell}} ipython3\n:tags: [remove-cell]\npass  {CELL_MARK} {value}\n```\n"


# --- Sphinx hooks --------------------------------------------------------------------------------------------

def _bibfiles(app) -> list[Path]:
    return [Path(app.srcdir) / b for b in getattr(app.config, "bibtex_bibfiles", [])]


def _page_hash(app, text: str) -> tuple[str, list[Path]]:
    files = dependencies(text, _bibfiles(app))
    return digest(files, app._relaxbook_memo), files


def _builder_inited(app) -> None:
    app._relaxbook_memo = {}  # file -> content hash, computed once per build
    if not hasattr(app.env, "relaxbook_inputs"):
        app.env.relaxbook_inputs = {}


def _source_read(app, docname: str, source: list[str]) -> None:
    if not is_notebook(source[0]):
        return
    value, files = _page_hash(app, source[0])
    app.env.relaxbook_inputs[docname] = value
    for f in files:
        app.env.note_dependency(str(f))
    source[0] = source[0].rstrip("\n") + hash_cell(value)


def _get_outdated(app, env, added, changed, removed) -> list[str]:
    outdated = []
    for docname, old in getattr(env, "relaxbook_inputs", {}).items():
        if docname in added | changed | removed:
            continue
        path = Path(env.doc2path(docname))
        if not path.exists() or _page_hash(app, path.read_text(encoding="utf-8"))[0] != old:
            outdated.append(docname)
    return outdated


def _purge(app, env, docname: str) -> None:
    getattr(env, "relaxbook_inputs", {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    env.relaxbook_inputs.update({d: other.relaxbook_inputs[d] for d in docnames if d in other.relaxbook_inputs})


def setup(app):
    app.connect("builder-inited", _builder_inited)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _get_outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1.0", "env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
