"""Shared fixtures. Data tests need nothing built; site tests read _build/html (``make test`` builds it first);
browser tests serve it on 127.0.0.1 and drive Debian chromium through Playwright."""

from __future__ import annotations

import csv
import functools
import http.server
import os
import re
import shutil
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from relaxbook.tools.pdf import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute"
BIN = Path(sys.executable).parent
# Jupyter Book run by this venv's own Python, as the Makefile runs it (a copied venv's scripts name the original's)
JUPYTER_BOOK = [str(BIN / "python"), str(BIN / "jupyter-book")]


def toc_files() -> list[str]:
    """Every page listed in _toc.yml (root first), as paths without suffix."""
    from relaxbook.data.paths import toc_pages

    return toc_pages(ROOT)


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "intro.html").exists():
        pytest.fail("the site is not built: run `make book` (make test does it for you)")
    return SITE


@pytest.fixture(scope="session")
def pages(site) -> dict[str, str]:
    """HTML of every page in the table of contents, by toc path."""
    return {f: (site / f"{f}.html").read_text(encoding="utf-8") for f in toc_files()}


def ends_within(pid: int, seconds: float) -> bool:
    """True once process ``pid`` has ended (or is a zombie) within ``seconds``."""
    import time

    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def copy_repo(dest: Path) -> Path:
    """A scratch copy of the book's sources (no venv, no build), for tests that break things."""

    def ignore(folder, names):
        return {n for n in names if n in {".venv", "_build", ".git", ".pytest_cache", "__pycache__"}}

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def run(
    cmd: list[str], cwd: Path, root: Path | None = None, timeout: int = 600, **environ: str
) -> subprocess.CompletedProcess:
    env = dict(os.environ, **environ)
    if root is not None:  # the scratch copy's data and its own relaxbook code (ahead of the editable install)
        env["RELAXBOOK_ROOT"] = str(root)
        env["PYTHONPATH"] = str(root)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def scratch(tmp_path) -> Path:
    return copy_repo(tmp_path / "book")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingTCPServer):
    # a page opens many connections at once: with the default backlog of 5, a loaded machine drops connection
    # attempts, which the browser retries only after seconds
    request_queue_size = 128
    daemon_threads = True


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    with _Server(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM is None:
        pytest.fail("Debian chromium is missing: run `make sysdeps` (make test does it for you)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


# With two pytest workers a page may load while a build runs on the other: slower, never different. Browser waits
# get three times Playwright's 30 s.
BROWSER_TIMEOUT_MS = 90_000


@pytest.fixture
def page(page):
    page.set_default_timeout(BROWSER_TIMEOUT_MS)
    page.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
    return page


def make(root: Path, *targets: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the Makefile in a scratch copy, using this test run's venv (linked as ``.venv``) without reinstalling it."""
    venv = root / ".venv"
    if not venv.exists():
        venv.symlink_to(BIN.parent, target_is_directory=True)
    # -o: never remake the venv stamp here (the linked venv is the one running these tests)
    return run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *targets], cwd=root, root=root, timeout=timeout
    )


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by relative path."""
    import hashlib

    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def reduced_toc(root: Path, *chapters: str) -> None:
    """Make a scratch copy build only ``chapters`` (e.g. "safety") under a plain root page, so a strict build stays
    fast; the other chapter files are removed (a chapter left out of _toc.yml fails the build)."""
    (root / "scratch_root.md").write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n"
        "  name: python3\n  display_name: Python 3\n---\n\n(scratch-root)=\n# Scratch build\n\n"
        "```{include} chapters/_notice.md\n```\n\n```{code-cell} ipython3\n:tags: [remove-cell]\n"
        "from relaxbook import book\nbook.setup()\n```\n\nA reduced table of contents for one test.\n\n"
        "## References\n\n```{bibliography}\n:filter: docname in docnames\n```\n"
    )
    lines = ["format: jb-book", "root: scratch_root", "chapters:"] + [f"  - file: chapters/{c}" for c in chapters]
    (root / "_toc.yml").write_text("\n".join(lines) + "\n")
    for page in (root / "chapters").glob("*.md"):
        if not page.name.startswith("_") and page.stem not in chapters:
            page.unlink()


def site_pages(site: Path = SITE) -> list[str]:
    """Every HTML page a reader can open (toc pages, search, genindex), relative to the site root; not the theme's
    _static/ templates, the downloads, or the index.html redirect stub."""
    if not site.exists():
        return [f"{f}.html" for f in toc_files()] + ["genindex.html", "search.html"]
    return sorted(
        str(p.relative_to(site))
        for p in site.rglob("*.html")
        if p.relative_to(site).parts[0] not in {"_static", "_downloads", "_sources"} and p.name != "index.html"
    )


def open_page(page, url: str) -> None:
    """Open a page and wait until its own scripts have run (no network idle wait: the site makes no late requests)."""
    page.goto(url, wait_until="load")
    page.wait_for_function("document.readyState === 'complete'")


def svg_text_sizes(path) -> tuple[float, float]:
    """An SVG's drawing width (its viewBox) and its smallest font size, both in the drawing's own units."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    width = float(re.split(r"[\s,]+", root.get("viewBox").strip())[2])
    sizes = []
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] != "text":
            continue
        style = dict(p.split(":", 1) for p in (el.get("style") or "").replace(" ", "").split(";") if ":" in p)
        size = el.get("font-size") or style.get("font-size")
        assert size, f"{path.name}: a text without a font size"
        sizes.append(float(re.match(r"[\d.]+", size).group(0)))
    assert sizes, f"{path.name} has no text"
    return width, min(sizes)


def status_of(findings: list[str]) -> str:
    """The status rule of CONTRIBUTING.md and the Methods chapter, written again here so tests check the code
    against the rule, not against itself."""
    if "contradicted" in findings:
        return "contradicted"
    if set(findings) == {"supported"}:
        return "verified"
    if "supported" in findings:
        return "partly verified"
    return "not found" if set(findings) == {"source not found"} else "unsupported"


def claims_with_status(root: Path = ROOT) -> list[dict]:
    """claims.csv rows (csv module only), each with the status its elements in claim_elements.csv give it."""
    import csv

    with open(root / "data" / "claim_elements.csv", newline="", encoding="utf-8") as f:
        findings: dict[str, list[str]] = {}
        for row in csv.DictReader(f):
            findings.setdefault(row["claim_id"], []).append(row["finding"])
    with open(root / "data" / "claims.csv", newline="", encoding="utf-8") as f:
        return [{**c, "status": status_of(findings[c["claim_id"]])} for c in csv.DictReader(f)]


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is a check that did not run: the whole run fails rather than passing with a gap (a missing
    optional dependency, for instance). Deselected tests (-m, -k) are not skipped tests."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"error: {len(skipped)} test(s) skipped; every test must run", red=True)
        session.exitstatus = 1


BUILT_FIXTURES = {"site", "pages", "server", "page", "browser", "book"}


# The modules that take longest, slowest first: `make test` hands whole modules to its two workers in this order
# (pytest-xdist --dist loadscope --no-loadscope-reorder): the two scratch builds (the reproducibility test's whole
# book, the cache tests' reduced one and its rebuilds) start at once, one per worker, and the short modules fill in at
# the end. The others keep their file order.
SLOWEST_FIRST = (
    "test_reproducible",
    "test_cache",
    "test_a11y",
    "test_browser",
    "test_strict",
    "test_bad_input",
    "test_atomic",
)


def pytest_collection_modifyitems(config, items):
    """A test that reads the built site (or drives the browser over it) is marked ``build``, whatever its module says,
    so that ``-m "not build"`` runs exactly the tests that need nothing built (make mutate relies on it). Modules in
    SLOWEST_FIRST run first, in that order."""
    for item in items:
        if BUILT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.build)
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: file order otherwise


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A scratch copy of data/ and references.bib that the data layer reads instead of the real ones."""
    from relaxbook.data import datapkg, paths

    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    monkeypatch.setattr(paths, "PACKAGE", tmp_path / "data" / "datapackage.json")
    monkeypatch.setattr(paths, "BIB", tmp_path / "references.bib")
    monkeypatch.setattr(datapkg, "_declared", None)
    monkeypatch.setattr(datapkg, "_loaded", {})
    return tmp_path / "data"


def rewrite(path, change):
    """Apply ``change(rows)`` to the rows of CSV ``path`` (a list of dicts) and write them back."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    rows = change(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
