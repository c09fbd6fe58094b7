"""The data-aware execution cache (relaxbook/cache.py): a chapter re-executes exactly when its code, a table it
declares in ``book.setup``, datapackage.json, references.bib or the helper code changes, and never shows stale
values. Unit tests first; then a few sequential builds that share one scratch copy of the book, reduced to the
chapters those builds need."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import JUPYTER_BOOK, ROOT, copy_repo, reduced_toc, toc_files
from relaxbook.ext import cache

# --- unit tests (no build) -----------------------------------------------------------------------------------


def test_declared_tables_are_parsed_from_the_setup_call():
    text = 'x = 1\nbook.setup("studies", "arms",\n           "claims")\n'
    assert cache.declared_tables(text) == ["studies", "arms", "claims"]
    assert cache.declared_tables("print('no setup here')") is None


def test_only_pages_with_a_kernelspec_are_notebooks():
    assert cache.is_notebook("---\njupytext: {}\nkernelspec:\n  name: python3\n---\n# T\n")
    assert not cache.is_notebook("---\ntitle: x\n---\nkernelspec: in the body\n")
    assert not cache.is_notebook("# no front matter\n")


def setup_tables(page: str, root: Path = ROOT) -> set[str]:
    """Independent of relaxbook: the table names in the page's book.setup(...)."""
    call = re.search(r"book\.setup\(([^)]*)\)", (root / f"{page}.md").read_text()).group(1)
    return set(re.findall(r'"([a-z_]+)"', call))


@pytest.mark.parametrize("page", toc_files())
def test_every_chapter_depends_on_its_declared_tables_and_the_shared_inputs(page):
    deps = {p.resolve().relative_to(ROOT).as_posix() for p in cache.dependencies((ROOT / f"{page}.md").read_text())}
    csvs = {d for d in deps if d.endswith(".csv")}
    assert csvs == {f"data/{t}.csv" for t in setup_tables(page)}
    assert {
        "data/datapackage.json",
        "references.bib",
        "requirements.lock",
        "relaxbook/book.py",
        "relaxbook/__init__.py",
        "relaxbook/data/__init__.py",
        "relaxbook/data/datapkg.py",
        "relaxbook/data/paths.py",
        "relaxbook/data/bib.py",
    } <= deps
    assert not [d for d in deps if d.startswith(("relaxbook/ext/", "relaxbook/tools/"))]  # build machinery


def write_package(folder: Path, modules: dict[str, str]) -> Path:
    for name, code in modules.items():
        path = folder / f"{name.replace('.', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    return folder


def test_helper_dependencies_follow_imports_through_packages_and_relative_imports(tmp_path):
    pkg = write_package(
        tmp_path / "relaxbook",
        {
            "__init__": "",
            "a": "from relaxbook import b\n",
            "b": "def f():\n    from .sub import c\n",
            "sub.__init__": "",
            "sub.c": "from . import d\nfrom ..e import thing\n",
            "sub.d": '"""mentions relaxbook.x"""\n',
            "e": "thing = 1\n",
            "x": "",
            "y": "import relaxbook.x as ex\n",
            "ext.__init__": "",
            "ext.z": "",
        },
    )
    page = (
        "---\nkernelspec: {}\n---\nProse naming relaxbook.y.\n```{code-cell} ipython3\n:tags: [remove-cell]\n"
        "from relaxbook import a\n```\n"
    )
    names = lambda files: {p.relative_to(pkg).with_suffix("").as_posix() for p in files}  # noqa: E731
    expected = {"__init__", "a", "b", "sub/__init__", "sub/c", "sub/d", "e"}
    assert names(cache.helper_closure(page, pkg)) == expected
    assert names(cache.helper_closure(page, pkg)) == expected  # memo intact
    assert names(cache.helper_closure("import relaxbook.y", pkg)) == {"__init__", "y", "x"}
    assert names(cache.helper_closure("from relaxbook.ext import z", pkg)) == {"__init__", "ext/__init__", "ext/z"}
    assert cache.helper_closure("import os", pkg) == []


@pytest.mark.parametrize(
    "code",
    [
        "m = __import__('relaxbook.a')",
        "import importlib\nimportlib.import_module('x')",
        "exec('from relaxbook import a')",
        "%time x = 1",
    ],
)
def test_code_whose_imports_cannot_be_read_depends_on_every_helper_module(tmp_path, code):
    pkg = write_package(tmp_path / "relaxbook", {"__init__": "", "a": "", "b": "", "sub.__init__": "", "sub.c": ""})
    assert cache.imported_modules(code) is None
    assert len(cache.helper_closure(code, pkg)) == 5


def test_a_page_with_code_but_no_setup_call_depends_on_every_table():
    deps = cache.dependencies("---\nkernelspec: {}\n---\n```{code-cell} ipython3\nimport relaxbook\n```\n")
    assert len([d for d in deps if d.suffix == ".csv"]) == len(list((ROOT / "data").glob("*.csv")))


def test_digest_changes_with_content_not_with_mtime(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("a\n1\n")
    before = cache.digest([f])
    os.utime(f, (1, 1))
    assert cache.digest([f]) == before
    f.write_text("a\n2\n")
    assert cache.digest([f]) != before


def test_the_build_freezes_its_long_lived_heap_once_loaded_and_at_exit(monkeypatch):
    """gc.freeze after the environment is loaded and again at exit (Python's shutdown collections took ~1 s)."""
    import atexit
    import gc
    from types import SimpleNamespace

    frozen, at_exit = [], []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(atexit, "register", at_exit.append)
    handlers = {}
    cache.setup(SimpleNamespace(connect=lambda event, fn: handlers.setdefault(event, fn)))
    assert at_exit == [cache.freeze_heap] and not frozen
    handlers["builder-inited"](SimpleNamespace(env=SimpleNamespace()))
    assert frozen == [True]
    at_exit[0]()
    assert frozen == [True, True]


# --- builds on one shared scratch copy ------------------------------------------------------------------------

# The cache works page by page, so the builds below use a reduced book (conftest.reduced_toc), which keeps each build
# short: profiles reads studies.csv and shows the label the CSV test edits, protocols reads it and does not show it,
# safety does not read it; profiles and safety draw the figures whose files the fresh-folder build must write;
# how-to-cite shows the build date (and links to references). The scratch root page alone imports a helper module
# the book fixture adds (HELPER).
CHAPTERS = ("profiles", "protocols", "safety", "references", "how-to-cite")
HELPER = "scratch_helper"
PAGES = ["scratch_root"] + [f"chapters/{c}" for c in CHAPTERS]
LAST_READ: set[str] = set()  # the pages Sphinx re-read in the last build()
LAST_LOG: list[str] = [""]  # the last build()'s log


def build(
    book: Path, strict: bool = True, warm: set[str] | None = None, out: Path | None = None, **environ: str
) -> set[str]:
    """Build the scratch book; return the pages whose notebook was executed (from the build log: myst-nb's line
    or relaxbook.ext.executor's). ``warm``: the pages that must have run on a warm kernel (relaxbook.ext.executor).
    ``out``: build into that output folder (as `make book` does) instead of the book's own _build."""
    env = dict(os.environ, RELAXBOOK_ROOT=str(book), PYTHONPATH=str(book), **environ)  # kernels import the copy
    cmd = [*JUPYTER_BOOK, "build", "."] + (["--all"] if strict else [])  # strict by itself
    cmd += ["--path-output", str(out)] if out is not None else []
    result = subprocess.run(cmd, cwd=book, env=env, capture_output=True, text=True, timeout=600)
    assert not processes_of(book), "a process the build started outlived it"
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # no colour codes
    assert result.returncode == 0, log[-3000:]
    page = lambda p: Path(p).resolve().relative_to(book.resolve()).as_posix()  # noqa: E731
    LAST_LOG[0] = log
    LAST_READ.clear()
    LAST_READ.update(re.findall(r"reading sources\.\.\. \S*\[ *\d+%\] \S*?([\w/-]+)", log))
    if warm is not None:
        assert {page(p) for p in re.findall(r"(\S+)\.md: Executed notebook in .* \[relaxbook\]", log)} == warm
    return {page(p) for p in re.findall(r"(\S+)\.(?:md|ipynb): Executing notebook", log)}


def processes_of(book: Path) -> list[int]:
    """Processes that run for this scratch book: every process a build starts inherits its RELAXBOOK_ROOT."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("RELAXBOOK_ROOT") == str(book) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def page_of(book: Path, path: str) -> str:
    return Path(path).resolve().relative_to(book.resolve()).as_posix()


def longest_last_run(book: Path) -> list[str]:
    """The pages by their last recorded run time in the book's execution cache, longest first."""
    from jupyter_cache import get_cache

    seconds = {}
    for record in sorted(
        get_cache(str(book / "_build" / ".jupyter_cache")).list_cache_records(), key=lambda r: r.created
    ):
        seconds[page_of(book, record.uri.removesuffix(".md"))] = (record.data or {}).get("execution_seconds") or 0
    assert set(seconds) == set(PAGES)
    return sorted(seconds, key=seconds.get, reverse=True)


def html(book: Path) -> dict[str, str]:
    return {p: (book / "_build" / "html" / f"{p}.html").read_text(encoding="utf-8") for p in PAGES}


def edit(path: Path, old: str, new: str, keep_mtime: bool = False) -> None:
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if keep_mtime:  # e.g. cp -p or a tool that restores times: only the content hash can notice
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A scratch copy of the book reduced to PAGES, built cold (every page executed), then rebuilt edit by edit."""
    book = copy_repo(tmp_path_factory.mktemp("cache") / "book")
    reduced_toc(book, *CHAPTERS)
    (book / "relaxbook" / f"{HELPER}.py").write_text('"""Imported by the scratch root page only."""\nNOTE = 1\n')
    with (book / "scratch_root.md").open("a") as root:
        root.write(f"\n```{{code-cell}} ipython3\n:tags: [remove-cell]\nfrom relaxbook import {HELPER}\n```\n")
    assert build(book) == set(PAGES)
    return book


def test_a_build_into_a_fresh_folder_after_an_edit_to_the_build_machinery_executes_nothing_and_writes_every_figure(
    book, tmp_path
):
    """An edit to the build machinery alone (no chapter imports it) runs nothing, as a build with nothing changed.
    The build goes into a new output folder, as `make book` does: chapters come from the execution cache, pages are
    read again, and each figure's data (CSV) and image must be written there too (they travel with the cached
    outputs)."""
    for name in ("ext/cache.py", "tools/bench.py", "ext/executor.py", "ext/site.py"):
        path = book / "relaxbook" / name
        path.write_text(path.read_text() + "\n# not imported by any chapter\n")
    assert build(book, out=tmp_path / "fresh") == set()
    fresh, kept = tmp_path / "fresh" / "_build" / "html", book / "_build" / "html"
    figures = sorted(p.relative_to(kept) for p in (kept / "_downloads" / "figures").glob("*.csv"))
    assert len(figures) >= 3
    for name in figures:
        assert (fresh / name).read_bytes() == (kept / name).read_bytes(), name
    images = sorted(p.name for p in (kept / "_images").iterdir())
    assert images and sorted(p.name for p in (fresh / "_images").iterdir()) == images


def test_csv_edit_reexecutes_only_the_pages_that_read_it_and_shows_the_new_value(book):
    old, new = "Roussan et al. 1985 (as the guide names it)", "Roussan et al. 1985 (label edited)"
    showing = [p for p, h in html(book).items() if old in h]
    assert showing
    before = html(book)
    edit(book / "data" / "studies.csv", old, new, keep_mtime=True)
    executed = build(book, strict=False)  # incremental, and the file's mtime did not change
    assert executed == {p for p in PAGES if "studies" in setup_tables(p, book)}
    after = html(book)
    for page in showing:
        assert new in after[page] and old not in after[page], page
    # pages that read the table but do not show the edited cell were executed, found unchanged and not re-read
    assert LAST_READ == set(showing) < executed
    assert all(after[p] == before[p] for p in executed - set(showing))


def test_an_edit_to_each_shared_input_reexecutes_every_page_and_shows_the_new_values(book):
    """references.bib, datapackage.json (schemas, titles, the evidence cut-off every page prints), requirements.lock
    and a helper module every page imports, edited together in one build (each alone is a dependency of every page:
    test_every_chapter_depends_on_its_declared_tables_and_the_shared_inputs)."""
    old_title = "long-term follow-up of baclofen therapy"
    new_title = "long-term follow-up (edited) of baclofen therapy"
    showing = [p for p, h in html(book).items() if old_title in h]
    assert showing
    edit(book / "references.bib", old_title, new_title)
    edit(book / "data" / "datapackage.json", '"evidence_cutoff": "2026-12-01"', '"evidence_cutoff": "2026-12-31"')
    lock = book / "requirements.lock"
    lock.write_text(lock.read_text() + "# an edit to the pinned environment\n")
    helper = book / "relaxbook" / "data" / "datapkg.py"  # imported by relaxbook.book, which every page imports
    helper.write_text(helper.read_text() + "\n# an edit to the helper package\n")
    longest = longest_last_run(book)
    assert build(book, warm=set(PAGES)) == set(PAGES), "every page runs again, on warm kernels"
    started = [page_of(book, p) for p in re.findall(r"(\S+)\.md: Executing notebook", LAST_LOG[0])]
    assert started[:2] == longest[:2], "the chapters that ran longest last time start first"
    after = html(book)
    for page in showing:
        assert new_title in after[page] and old_title not in after[page], page
    assert all("2026-12-31" in h for h in after.values())


def test_edit_to_a_helper_one_chapter_imports_reexecutes_only_that_chapter_and_a_new_date_reruns_nothing(book):
    """The helper edit is built with a new build date: the footer stamp and the How to cite page show the commit and
    build date (SOURCE_DATE_EPOCH, else the commit's date); a new one rewrites every page, executes none and re-reads
    none (the helper's one chapter is executed, and its output is unchanged)."""
    importers = {
        p for p in PAGES if re.search(rf"^from relaxbook import .*\b{HELPER}\b", (book / f"{p}.md").read_text(), re.M)
    }
    assert importers == {"scratch_root"}
    assert not [m for m in (book / "relaxbook").rglob("*.py") if m.stem != HELPER and HELPER in m.read_text()]
    helper = book / "relaxbook" / f"{HELPER}.py"
    helper.write_text(helper.read_text() + "\n# an edit to one chapter's helper\n")
    assert build(book, strict=False, SOURCE_DATE_EPOCH="1767225600") == importers  # 2026-01-01
    assert not LAST_READ
    pages = html(book)
    assert all("2026-01-01" in pages[p] for p in PAGES)
    assert "Build of 2026-01-01" in pages["chapters/how-to-cite"]
