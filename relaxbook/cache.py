"""Sphinx extension: a data-aware execution cache.

jupyter-cache keys a notebook on its code cells only, so after a CSV edit it would serve the old outputs (old
numbers) even with ``--all``. This extension makes each chapter's cache key cover everything the chapter's output
depends on:

* the ``data/`` tables named in the chapter's ``book.setup("table", ...)`` call (``relaxbook.datapkg.load`` refuses
  any other table, so the declaration is complete; a page with code but no ``setup`` call depends on every table);
* the helper modules the chapter imports, directly or through other helper modules (found by reading the import
  statements; a page that names ``relaxbook`` without an import statement this can read depends on every module);
* ``data/datapackage.json`` (schemas change how tables load), ``references.bib`` and ``requirements.lock`` (the
  pinned versions of everything else the code runs on).

On ``source-read`` it appends a hidden code cell holding the hash of those files, so the notebook's jupyter-cache
key changes exactly when one of them does, and declares them as Sphinx dependencies. On ``env-get-outdated`` it
re-reads pages whose hash changed (incremental builds without ``--all`` would otherwise keep the old page).
On ``env-before-read-docs`` it executes every page about to be read that the cache does not hold, on warm kernels in
parallel (``relaxbook.executor``), and caches the results, so myst-nb finds them all cached.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

SETUP_CALL = re.compile(r"\bbook\.setup\(([^)]*)\)")
CELL_MARK = "# relaxbook.cache inputs:"
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)
DYNAMIC = {"__import__", "import_module", "exec", "eval"}
CELL_OPTION = re.compile(r"^:[\w-]+:.*\n", re.M)


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


def page_code(text: str) -> str:
    """The code cells of a MyST text notebook, without their ``:option:`` lines."""
    return "\n".join(CELL_OPTION.sub("", body) for body in CODE_CELL.findall(text))


@lru_cache(maxsize=512)  # a build asks about each helper module once per page
def imported_modules(code: str) -> frozenset[str] | None:
    """Names of the ``relaxbook`` modules that the Python ``code`` imports (``__init__`` for the package itself);
    None when that cannot be told (code that does not parse, or imports dynamically with ``__import__``,
    ``import_module``, ``exec`` or ``eval``): then assume it uses every module."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in DYNAMIC:
            return None
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "relaxbook":
                    found |= {"__init__", *alias.name.split(".")[1:2]}
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") if node.module else []
            if node.level == 0 and parts[:1] == ["relaxbook"]:
                parts = parts[1:]
            elif node.level != 1:  # another package, or a relative import from outside the package
                continue
            found |= {"__init__", *parts[:1]} if parts else {"__init__", *(a.name for a in node.names)}
    return frozenset(found)


def helper_closure(text: str, package_dir: Path) -> list[Path]:
    """The helper modules (files) the code ``text`` runs: its relaxbook imports and theirs, transitively."""
    modules = {p.stem: p for p in package_dir.glob("*.py")}
    found = imported_modules(page_code(text) if CODE_CELL.search(text) else text)
    if found is None:
        return sorted(modules.values())
    todo = set(found)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue  # not a module: a name defined in __init__.py, which is included
        seen.add(name)
        more = imported_modules(modules[name].read_text(encoding="utf-8"))
        todo |= set(modules) if more is None else more
    return sorted(modules[n] for n in seen)


def dependencies(text: str, bibfiles=()) -> list[Path]:
    """Every file the outputs of the page ``text`` depend on, besides the page itself."""
    import relaxbook
    from relaxbook import paths

    package = json.loads(paths.PACKAGE.read_text(encoding="utf-8"))
    by_name = {res["name"]: res["path"] for res in package["resources"]}
    names = declared_tables(text)
    tables = sorted(by_name.values()) if names is None else sorted({by_name[n] for n in names if n in by_name})
    helper = helper_closure(text, Path(relaxbook.__file__).resolve().parent)
    bibs = dict.fromkeys([paths.BIB.resolve(), *(Path(b).resolve() for b in bibfiles)])
    return [paths.PACKAGE, paths.ROOT / "requirements.lock", *bibs, *helper, *(paths.DATA / t for t in tables)]


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


def _with_hash_cell(app, text: str) -> tuple[str, str, list[Path]]:
    value, files = _page_hash(app, text)
    return text.rstrip("\n") + hash_cell(value), value, files


def _source_read(app, docname: str, source: list[str]) -> None:
    if not is_notebook(source[0]):
        return
    source[0], value, files = _with_hash_cell(app, source[0])
    app.env.relaxbook_inputs[docname] = value
    for f in files:
        app.env.note_dependency(str(f))


def _before_read(app, env, docnames: list[str]) -> None:
    """Execute, on warm kernels in parallel, each page to be read whose notebook the jupyter-cache does not hold."""
    from relaxbook import executor

    config = env.mystnb_config
    if config.execution_mode != "cache" or not docnames or executor.workers(len(docnames)) == 0:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import create_nb_reader
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    cache = get_cache(config.execution_cache_path or ".jupyter_cache")
    jobs = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        text = path.read_text(encoding="utf-8")
        if not is_notebook(text):
            continue
        text = _with_hash_cell(app, text)[0]
        nb = create_nb_reader(str(path), env.myst_config, config, text).read(text)
        if "execution" in nb.metadata or config.metadata_key in nb.metadata or config.execution_in_temp:
            continue  # per-notebook execution settings: left to myst-nb
        try:
            cache.match_cache_notebook(nb)
            continue
        except KeyError:
            pass
        jobs.append(executor.Job(docname, nb, str(path.parent), nb.metadata.get("kernelspec", {}).get("name",
                                 "python3"), config.execution_timeout))
    log = lambda job, msg: logger.info(f"{env.doc2path(job.key)}: {msg} [relaxbook]")  # noqa: E731
    for job in executor.run(jobs, executor.workers(len(jobs)), log):
        if job.done:
            cache.cache_notebook_bundle(CacheBundleIn(job.nb, str(env.doc2path(job.key)),
                                                      data={"execution_seconds": job.seconds}),
                                        check_validity=False, overwrite=True)


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
    app.connect("env-before-read-docs", _before_read)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1.0", "env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
