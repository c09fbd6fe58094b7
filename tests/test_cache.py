"""The data-aware execution cache (relaxbook/cache.py): a chapter re-executes exactly when its code, a table it
declares in ``book.setup``, datapackage.json, references.bib or the helper code changes, and never shows stale
values. Unit tests first; then a few sequential builds that share one scratch copy."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, ROOT, copy_repo, ends_within, toc_files
from relaxbook import cache, executor

# --- unit tests (no build) -----------------------------------------------------------------------------------


def test_declared_tables_are_parsed_from_the_setup_call():
    text = 'x = 1\nbook.setup("studies", "arms",\n           "claims")\n'
    assert cache.declared_tables(text) == ["studies", "arms", "claims"]
    assert cache.declared_tables("print('no setup here')") is None


def test_only_pages_with_a_kernelspec_are_notebooks():
    assert cache.is_notebook("---\njupytext: {}\nkernelspec:\n  name: python3\n---\n# T\n")
    assert not cache.is_notebook("---\ntitle: x\n---\nkernelspec: in the body\n")
    assert not cache.is_notebook("# no front matter\n")


SPEC = re.compile(r'"([a-z_]+)(\[[a-z_,]*\])?(?: where ([a-z_]+) in ([a-z_]+))?"')


def setup_views(page: str) -> dict[str, tuple]:
    """Independent of relaxbook: table -> (columns or None, key, other table) from the page's book.setup(...)."""
    call = re.search(r"book\.setup\(([^)]*)\)", (ROOT / f"{page}.md").read_text()).group(1)
    return {t: (cols[1:-1].split(",") if cols else None, key or None, other or None)
            for t, cols, key, other in SPEC.findall(call)}


def setup_tables(page: str) -> set[str]:
    return set(setup_views(page))


def sees(page: str, table: str, row_key: str, column: str) -> bool:
    """Independent of relaxbook: does the page's declaration show that cell (the row whose first column is
    ``row_key``)?"""
    import csv

    if table not in setup_views(page):
        return False
    cols, key, other = setup_views(page)[table]
    if cols is not None and column not in cols:
        return False
    if key:
        rows = {r[next(iter(r))]: r for r in csv.DictReader(open(ROOT / "data" / f"{table}.csv", encoding="utf-8"))}
        referenced = {r[key] for r in csv.DictReader(open(ROOT / "data" / f"{other}.csv", encoding="utf-8"))}
        return rows[row_key][key] in referenced
    return True


@pytest.mark.parametrize("page", toc_files())
def test_every_chapter_depends_on_its_declared_tables_and_the_shared_inputs(page):
    deps = {p.resolve().relative_to(ROOT).as_posix() for p in cache.dependencies((ROOT / f"{page}.md").read_text())}
    csvs = {d for d in deps if d.endswith(".csv")}
    assert csvs == {f"data/{t}.csv" for t in setup_tables(page)}
    assert {"data/datapackage.json", "references.bib", "requirements.lock", "relaxbook/book.py",
            "relaxbook/datapkg.py", "relaxbook/render.py", "relaxbook/__init__.py"} <= deps
    assert "relaxbook/cache.py" not in deps and "relaxbook/bench.py" not in deps  # build machinery, not imported


def write_package(folder: Path, modules: dict[str, str]) -> Path:
    folder.mkdir()
    for name, code in modules.items():
        (folder / f"{name}.py").write_text(code)
    return folder


def test_helper_dependencies_follow_imports_through_the_package(tmp_path):
    pkg = write_package(tmp_path / "relaxbook", {
        "__init__": "from relaxbook.paths import ROOT\n", "paths": "ROOT = 1\n",
        "a": "from relaxbook import b\n", "b": "def f():\n    from . import c\n", "c": '"""mentions relaxbook.d"""\n',
        "d": "", "e": "import relaxbook.d as dee\n"})
    page = "---\nkernelspec: {}\n---\nProse naming relaxbook.e.\n```{code-cell} ipython3\n:tags: [remove-cell]\n" \
           "from relaxbook import a\n```\n"
    assert {p.stem for p in cache.helper_closure(page, pkg)} == {"__init__", "paths", "a", "b", "c"}
    assert {p.stem for p in cache.helper_closure(page, pkg)} == {"__init__", "paths", "a", "b", "c"}  # memo intact
    assert {p.stem for p in cache.helper_closure("import relaxbook.e", pkg)} == {"__init__", "paths", "e", "d"}
    assert cache.helper_closure("import os", pkg) == []


@pytest.mark.parametrize("code", ["m = __import__('relaxbook.a')", "import importlib\nimportlib.import_module('x')",
                                  "exec('from relaxbook import a')", "%time x = 1"])
def test_code_whose_imports_cannot_be_read_depends_on_every_helper_module(tmp_path, code):
    pkg = write_package(tmp_path / "relaxbook", {"__init__": "", "a": "", "b": ""})
    assert cache.imported_modules(code) is None
    assert {p.stem for p in cache.helper_closure(code, pkg)} == {"__init__", "a", "b"}


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


def test_compiled_templates_are_kept_in_the_doctree_folder_and_follow_their_source(tmp_path):
    from types import SimpleNamespace

    from jinja2 import DictLoader, Environment, FileSystemBytecodeCache

    sources = {"page.html": "<p>{{ x }}</p>"}
    app = SimpleNamespace(builder=SimpleNamespace(templates=SimpleNamespace(
        environment=Environment(loader=DictLoader(sources)))), doctreedir=str(tmp_path / ".doctrees"))
    cache.cache_templates(app)
    env = app.builder.templates.environment
    assert isinstance(env.bytecode_cache, FileSystemBytecodeCache)
    assert env.get_template("page.html").render(x=1) == "<p>1</p>"
    assert list((tmp_path / ".doctrees" / "jinja2").iterdir())  # compiled once, kept for the next build
    sources["page.html"] = "<div>{{ x }}</div>"  # an edited template: a new build compiles it afresh
    fresh = Environment(loader=DictLoader(sources))
    app.builder.templates.environment = fresh
    cache.cache_templates(app)
    assert fresh.get_template("page.html").render(x=2) == "<div>2</div>"


# --- builds on one shared scratch copy ------------------------------------------------------------------------

PAGES = toc_files()
LAST_READ: set[str] = set()  # the pages Sphinx re-read in the last build()
LAST_LOG: list[str] = [""]  # the last build()'s log
COLD_LOG: list[str] = [""]
KEEP = "120"  # these builds hand their kernels on to the next one, as a maintainer's builds do (default 600 s)


def build(book: Path, strict: bool = True, warm: set[str] | None = None, **environ: str) -> set[str]:
    """Build the scratch book; return the pages whose notebook was executed (from the build log: myst-nb's line
    or relaxbook.executor's). ``warm``: the pages that must have run on a warm kernel (relaxbook.executor)."""
    env = dict(os.environ, RELAXBOOK_ROOT=str(book), PYTHONPATH=str(book), RELAXBOOK_KERNEL_TTL=KEEP,
               **environ)  # kernels import the copy
    cmd = [str(BIN / "jupyter-book"), "build", ".", "-n", "-W", "--keep-going"] + (["--all"] if strict else [])
    result = subprocess.run(cmd, cwd=book, env=env, capture_output=True, text=True, timeout=600)
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # no colour codes
    assert result.returncode == 0, log[-3000:]
    page = lambda p: Path(p).resolve().relative_to(book.resolve()).as_posix()  # noqa: E731
    LAST_LOG[0] = log
    LAST_READ.clear()
    LAST_READ.update(re.findall(r"reading sources\.\.\. \S*\[ *\d+%\] \S*?([\w/-]+)", log))
    if warm is not None:
        assert {page(p) for p in re.findall(r"(\S+)\.md: Executed notebook in .* \[relaxbook\]", log)} == warm
    return {page(p) for p in re.findall(r"(\S+)\.(?:md|ipynb): Executing notebook", log)}


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
    book = copy_repo(tmp_path_factory.mktemp("cache") / "book")
    assert build(book, warm=set(PAGES)) == set(PAGES), "a cold build executes every page, on warm kernels"
    COLD_LOG[0] = LAST_LOG[0]
    yield book
    leases = book / "_build" / ".jupyter_cache" / "kernels"
    pids = executor.leased_pids(leases)
    shutil.rmtree(leases, ignore_errors=True)  # their watchdogs end the kept kernels
    assert all(ends_within(pid, 10) for pid in pids)


def test_a_cold_build_starts_the_chapters_that_run_the_most_helper_code(book):
    """No run times are known in a cold build: the two chapters with their own big helper module go first."""
    started = re.findall(r"(\S+)\.md: Executing notebook", COLD_LOG[0])
    own = {p for p in PAGES if re.search(r"^from relaxbook import .*\b(effects|profiles)\b", (ROOT / f"{p}.md")
                                          .read_text(), re.M)}
    assert len(own) == 2 and {Path(p).resolve().relative_to(book.resolve()).as_posix() for p in started[:2]} == own


def test_nothing_changed_executes_nothing(book):
    assert build(book) == set()


def test_csv_edit_reexecutes_only_the_pages_that_read_it_and_shows_the_new_value(book):
    old, new = "Roussan et al. 1985 (as the guide names it)", "Roussan et al. 1985 (label edited)"
    showing = [p for p, h in html(book).items() if old in h]
    assert len(showing) >= 2
    before = html(book)
    edit(book / "data" / "studies.csv", old, new, keep_mtime=True)
    executed = build(book, strict=False)  # incremental, and the file's mtime did not change
    # pages that read studies whole or through a view that shows this label; a view without it does not re-run
    assert executed == {p for p in PAGES if sees(p, "studies", "roussan1985", "label")}
    assert {p for p in PAGES if "studies" in setup_tables(p)} - executed  # some views leave the label out
    after = html(book)
    for page in showing:
        assert new in after[page] and old not in after[page], page
    # pages that read the table but do not show the edited cell were executed, found unchanged and not re-read
    assert LAST_READ == set(showing) < executed
    assert "(kept from an earlier build)" in LAST_LOG[0]  # the cold build's kernels, still warm
    assert all(after[p] == before[p] for p in executed - set(showing))


def test_an_edit_inside_a_rows_view_reexecutes_that_page_and_shows_the_new_value(book):
    """Effects sees the studies that outcome_stats references: editing one of their labels re-runs it."""
    old, new = "Thiyagarajan et al. 2024,", "Thiyagarajan et al. 2024 (label edited),"
    assert sees("chapters/effects", "studies", "thiyagarajan2024", "label")
    edit(book / "data" / "studies.csv", old, new)
    executed = build(book, strict=False)
    assert "chapters/effects" in executed
    assert executed == {p for p in PAGES if sees(p, "studies", "thiyagarajan2024", "label")}
    assert "Thiyagarajan et al. 2024 (label edited)" in html(book)["chapters/effects"]


def test_bib_edit_reexecutes_every_page_and_shows_the_new_entry(book):
    old = "long-term follow-up of baclofen therapy"
    new = "long-term follow-up (edited) of baclofen therapy"
    showing = [p for p, h in html(book).items() if old in h]
    assert showing
    edit(book / "references.bib", old, new)
    assert build(book, strict=False) == set(PAGES)
    after = html(book)
    for page in showing:
        assert new in after[page] and old not in after[page], page


def test_helper_edit_reexecutes_every_page_that_imports_it(book):
    helper = book / "relaxbook" / "render.py"  # imported by relaxbook.book, which every page imports
    helper.write_text(helper.read_text() + "\n# an edit to the helper package\n")
    assert build(book) == set(PAGES)
    assert build(book) == set()


def test_edit_to_a_helper_one_chapter_imports_reexecutes_only_that_chapter(book):
    importers = {p for p in PAGES if re.search(r"^from relaxbook import .*\bprofiles\b", (ROOT / f"{p}.md").read_text(),
                                               re.M)}
    assert len(importers) == 1
    helper = book / "relaxbook" / "profiles.py"
    helper.write_text(helper.read_text() + "\n# an edit to one chapter's helper\n")
    assert build(book, strict=False) == importers


def test_a_new_build_date_reexecutes_only_the_page_that_prints_it(book):
    """The How to cite page prints the commit and build date (SOURCE_DATE_EPOCH, else the commit's date)."""
    printers = {p for p in PAGES if re.search(r"^from relaxbook import .*\bsite\b", (ROOT / f"{p}.md").read_text(), re.M)}
    assert printers == {"chapters/how-to-cite"}
    assert build(book, strict=False, SOURCE_DATE_EPOCH="1767225600") == printers  # 2026-01-01
    assert "2026-01-01" in html(book)["chapters/how-to-cite"]
    assert build(book, strict=False, SOURCE_DATE_EPOCH="1767225600") == set()
    # back to this run's date: that execution is still cached, so nothing runs, but the page is re-read
    assert build(book, strict=False) == set() and LAST_READ == printers
    assert "2026-01-01" not in html(book)["chapters/how-to-cite"]


def test_editing_build_machinery_reexecutes_nothing(book):
    for name in ("cache.py", "bench.py", "executor.py"):
        path = book / "relaxbook" / name
        path.write_text(path.read_text() + "\n# not imported by any chapter\n")
    assert build(book) == set()


def test_formatted_bib_entries_are_kept_for_the_next_build_and_formatted_afresh_when_the_entry_changes(monkeypatch):
    from types import SimpleNamespace

    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin
    from pybtex.style.formatting.alpha import Style as AlphaStyle

    from relaxbook import sphinxext

    sphinxext._register_bib_style()
    style = find_plugin("pybtex.style.formatting", "relaxbook")()
    calls = []
    real = AlphaStyle.format_entry
    monkeypatch.setattr(AlphaStyle, "format_entry", lambda self, *a, **k: calls.append(a[1].key) or real(self, *a, **k))
    bib = "@article{k1, author={Roe, Ann}, title={One}, journal={J}, year={2001}}"

    def build(text, env):  # one build: restore, format the entry (newly parsed, as after a restart), keep
        sphinxext._restore_formatted(SimpleNamespace(env=env))
        entry = parse_string(text, "bibtex").entries["k1"]
        out = style.format_entry("k1", entry).text.render_as("text")
        sphinxext._keep_formatted(None, env)
        return out

    env = SimpleNamespace()
    first = build(bib, env)
    assert calls == ["k1"] and "One" in first
    assert build(bib, env) == first and calls == ["k1"]  # the next build: kept, not formatted again
    edited = build(bib.replace("{One}", "{Two}"), env)
    assert "Two" in edited and calls == ["k1", "k1"]  # an edited entry is formatted afresh
    env.relaxbook_bib["salt"] = "another version of the formatting code"
    build(bib.replace("{One}", "{Two}"), env)
    assert calls == ["k1", "k1", "k1"]  # kept entries of other code are dropped
