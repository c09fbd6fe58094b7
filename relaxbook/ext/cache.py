"""Sphinx extension: a data-aware execution cache.

jupyter-cache keys a notebook on its code cells only, so after a CSV edit it would serve the old outputs (old
numbers) even with ``--all``. This extension makes each chapter's cache key cover everything the chapter's output
depends on:

* the ``data/`` tables named in the chapter's ``book.setup("table", ...)`` call (``relaxbook.data.datapkg.load`` refuses
  any other table, so the declaration is complete; a page with code but no ``setup`` call depends on every table);
* the helper modules the chapter imports, directly or through other helper modules (read from the import
  statements; code that imports dynamically, or does not parse, depends on every module);
* ``data/datapackage.json`` (schemas change how tables load), ``references.bib`` and ``requirements.lock`` (the
  pinned versions of everything else the code runs on).

On ``source-read`` it appends a hidden code cell holding the hash of those files, so the notebook's jupyter-cache
key changes exactly when one of them does. On ``env-get-outdated`` it finds the pages whose hash
changed, executes them (and any page Sphinx will read anyway) on warm kernels in parallel (:mod:`.executor`)
unless the cache already holds their outputs, caches the results (so myst-nb finds them cached), and has Sphinx
re-read only the pages whose outputs changed: a page whose inputs changed but whose outputs did not keeps its HTML.
``env-before-read-docs`` does the same for pages read for other reasons (e.g. ``--all``).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from relaxbook.data.datapkg import CODE_CELL, declared_tables, page_code

CELL_MARK = "# relaxbook.cache inputs:"
DYNAMIC = {"__import__", "import_module", "exec", "eval"}


def is_notebook(text: str) -> bool:
    """A MyST text notebook: front matter with a kernelspec (otherwise myst-nb never executes it)."""
    return text.startswith("---") and re.search(r"^kernelspec:", text.split("\n---", 1)[0], re.M) is not None


@lru_cache(maxsize=512)  # a build asks about each helper module once per page
def imported_modules(code: str, package: str = "relaxbook") -> frozenset[str] | None:
    """Dotted names of the ``relaxbook`` modules that the Python ``code`` (of module ``package``'s package, for
    relative imports) may import: for ``from a.b import c``, both ``a.b`` and ``a.b.c`` (one of them may be a name,
    not a module). None when that cannot be told (code that does not parse, or imports dynamically with
    ``__import__``, ``import_module``, ``exec`` or ``eval``): then assume it uses every module."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in DYNAMIC:
            return None
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "relaxbook"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == "relaxbook":
                found |= {module, *(f"{module}.{a.name}" for a in node.names)}
    return frozenset(found)


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package in ``package_dir``."""
    out = {}
    for path in package_dir.rglob("*.py"):
        parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def helper_closure(text: str, package_dir: Path) -> list[Path]:
    """The helper modules (files) the code ``text`` runs: its relaxbook imports and theirs, transitively, with the
    ``__init__`` of every package on the way (Python runs those too)."""
    modules = module_files(package_dir)
    found = imported_modules(page_code(text) if CODE_CELL.search(text) else text)
    if found is None:
        return sorted(modules.values())
    todo = set(found)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue  # not a module: a name defined in a package's __init__.py, which is included
        seen.add(name)
        parts = name.split(".")
        todo |= {".".join(parts[:i]) for i in range(1, len(parts))}
        is_package = modules[name].name == "__init__.py"
        more = imported_modules(
            modules[name].read_text(encoding="utf-8"), name if is_package else ".".join(parts[:-1]) or name
        )
        todo |= set(modules) if more is None else more
    return sorted(modules[n] for n in seen)


@lru_cache(maxsize=4)  # asked once per page; parsed once per content of datapackage.json
def table_paths(package_json: str) -> dict[str, str]:
    """Table name -> file name, from the text of ``datapackage.json``."""
    return {res["name"]: res["path"] for res in json.loads(package_json)["resources"]}


def dependencies(text: str, bibfiles=()) -> list[Path]:
    """Every file the outputs of the page ``text`` depend on, besides the page itself."""
    import relaxbook
    from relaxbook.data import paths

    by_name = table_paths(paths.PACKAGE.read_text(encoding="utf-8"))
    declared = declared_tables(text)
    names = sorted(by_name) if declared is None else sorted(set(declared) & set(by_name))
    helper = helper_closure(text, Path(relaxbook.__file__).resolve().parent)
    bibs = dict.fromkeys([paths.BIB.resolve(), *(Path(b).resolve() for b in bibfiles)])
    return [paths.PACKAGE, paths.ROOT / "requirements.lock", *bibs, *helper, *(paths.DATA / by_name[n] for n in names)]


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


def freeze_heap(*_args) -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``).

    A build process holds some 170,000 long-lived objects (Sphinx, docutils, pandas' and myst-nb's modules, the
    pickled environment); every full collection walks them all again, and Python's shutdown runs several full
    collections: about 1 s of a 4 s no-op build, measured. Frozen objects are still freed by reference counting; only
    reference cycles among them are left for the process's exit to reclaim. Called once Sphinx has loaded its
    environment and again at exit.
    """
    import gc

    gc.freeze()


def cache_folder(app) -> Path:
    """The jupyter-cache folder (``execute: cache:``), relative to the working directory as jupyter-cache reads it."""
    return Path(getattr(getattr(app, "config", None), "nb_execution_cache_path", "") or ".jupyter_cache").resolve()


def _builder_inited(app) -> None:
    freeze_heap()
    app._relaxbook_memo = {}  # file -> content hash, computed once per build
    app._relaxbook_outputs = {}  # docname -> digest of the outputs it will be read with (None: unknown)
    for name in ("relaxbook_inputs", "relaxbook_outputs"):
        if not hasattr(app.env, name):
            setattr(app.env, name, {})


def _with_hash_cell(app, text: str) -> tuple[str, str, list[Path]]:
    value, files = _page_hash(app, text)
    return text.rstrip("\n") + hash_cell(value), value, files


def _source_read(app, docname: str, source: list[str]) -> None:
    if not is_notebook(source[0]):
        return
    source[0], value, _ = _with_hash_cell(app, source[0])
    app.env.relaxbook_inputs[docname] = value
    app.env.relaxbook_outputs[docname] = app._relaxbook_outputs.get(docname)
    # The input files are not declared to Sphinx with note_dependency: Sphinx would re-read a page whenever one
    # of them has a newer mtime, even when the page's outputs did not change. _get_outdated decides instead.


def outputs_digest(nb, extra: str = "") -> str:
    """A hash of what a notebook shows: every code cell's outputs, without execution counts."""
    shown = [
        [{k: v for k, v in out.items() if k != "execution_count"} for out in cell.get("outputs", [])]
        for cell in nb.cells
        if cell.cell_type == "code"
    ]
    return hashlib.sha256(json.dumps([extra, shown], sort_keys=True, default=str).encode()).hexdigest()[:20]


def _execute(app, env, docnames) -> None:
    """For each notebook page in ``docnames``: find its outputs in the jupyter-cache or execute it (all misses
    together, on warm kernels in parallel: relaxbook.ext.executor) and cache them, and note the outputs' digest.
    A page executed here is found cached when myst-nb reads it. Pages already handled in this build are skipped."""
    from relaxbook.ext import executor

    config = env.mystnb_config
    todo = [d for d in docnames if d not in app._relaxbook_outputs]
    if config.execution_mode != "cache" or not todo:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import create_nb_reader
    from sphinx.util import logging

    from relaxbook.data import paths

    logger = logging.getLogger(__name__)
    cache = get_cache(str(cache_folder(app)))
    package = digest([paths.PACKAGE], app._relaxbook_memo)  # titles and paths shown in each page's data box
    jobs = []
    for docname in todo:
        app._relaxbook_outputs[docname] = None
        path = Path(env.doc2path(docname))
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if not is_notebook(text):
            continue
        text, _, files = _with_hash_cell(app, text)
        # a cold build knows no run times: start the chapters that run the most helper code first
        weight = len(text) + sum(f.stat().st_size for f in files if isinstance(f, Path) and f.suffix == ".py")
        reader = create_nb_reader(str(path), env.myst_config, config, text)
        if reader is None:  # not a notebook to myst-nb (no jupytext front matter): nothing to execute
            continue
        nb = reader.read(text)
        if "execution" in nb.metadata or config.metadata_key in nb.metadata or config.execution_in_temp:
            continue  # per-notebook execution settings: left to myst-nb
        try:
            record = cache.match_cache_notebook(nb)
        except KeyError:
            jobs.append(
                executor.Job(
                    docname,
                    nb,
                    str(path.parent),
                    nb.metadata.get("kernelspec", {}).get("name", "python3"),
                    config.execution_timeout,
                    weight=weight,
                )
            )
            continue
        app._relaxbook_outputs[docname] = outputs_digest(cache.get_cache_bundle(record.pk).nb, package)
    workers = executor.workers(len(jobs))
    if not workers:
        return  # RELAXBOOK_KERNELS=0: myst-nb executes them, one new kernel each
    last = {}  # uri -> (created, seconds) of its newest cached execution: the longest run first
    for record in cache.list_cache_records():
        if record.uri not in last or record.created > last[record.uri][0]:
            last[record.uri] = (record.created, (record.data or {}).get("execution_seconds"))
    for job in jobs:
        job.cost = last.get(str(env.doc2path(job.key)), (None, None))[1]
    logger.info(f"executing {len(jobs)} page(s) on {workers} warm kernel(s) [relaxbook]")
    log = lambda job, msg: logger.info(f"{env.doc2path(job.key)}: {msg} [relaxbook]")  # noqa: E731
    for job in executor.run(jobs, workers, log):
        if job.done:
            cache.cache_notebook_bundle(
                CacheBundleIn(job.nb, str(env.doc2path(job.key)), data={"execution_seconds": job.seconds}),
                check_validity=False,
                overwrite=True,
            )
            app._relaxbook_outputs[job.key] = outputs_digest(job.nb, package)


def _get_outdated(app, env, added, changed, removed) -> list[str]:
    """Pages whose inputs changed are executed now (with the pages Sphinx will read anyway, in one go); of those,
    only the pages whose outputs changed are re-read. A page with new inputs but the same outputs keeps its HTML."""
    known = added | changed | removed
    stale: dict[str, str] = {}  # docname -> its new input hash
    for docname, old in getattr(env, "relaxbook_inputs", {}).items():
        if docname in known:
            continue
        path = Path(env.doc2path(docname))
        new = _page_hash(app, path.read_text(encoding="utf-8"))[0] if path.exists() else None
        if new != old:
            stale[docname] = new
    _execute(app, env, list(stale) + sorted(added | changed))
    outdated = []
    for docname, new_inputs in stale.items():
        new, old = app._relaxbook_outputs.get(docname), env.relaxbook_outputs.get(docname)
        if new is None or new != old:
            outdated.append(docname)
        else:
            env.relaxbook_inputs[docname] = new_inputs
    return outdated


def _before_read(app, env, docnames: list[str]) -> None:
    """Every page about to be read is executed (if its outputs are not cached) before myst-nb reads it."""
    _execute(app, env, docnames)


def _purge(app, env, docname: str) -> None:
    for name in ("relaxbook_inputs", "relaxbook_outputs"):
        getattr(env, name, {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    for name in ("relaxbook_inputs", "relaxbook_outputs"):
        mine, theirs = getattr(env, name), getattr(other, name, {})
        mine.update({d: theirs[d] for d in docnames if d in theirs})


def setup(app):
    import atexit

    atexit.register(freeze_heap)
    app.connect("builder-inited", _builder_inited)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _get_outdated)
    app.connect("env-before-read-docs", _before_read)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1.1", "env_version": 2, "parallel_read_safe": True, "parallel_write_safe": True}
