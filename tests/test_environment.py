"""The environment: consistent (pip check), fully locked (every import is in requirements.lock), and a Python that is
too old is refused with a clear message before anything is installed."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from importlib.metadata import packages_distributions

from conftest import ROOT, run, toc_files

LOCAL = {"relaxbook", "conftest", "recompute"}  # the package, and the tests' own helper modules


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> set[str]:
    names = set()
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(normalise(re.split(r"[=<>!~\[; ]", line)[0]))
    return names


def python_sources() -> dict[str, str]:
    """Source text of the helper package, the tests and every code cell of every chapter (and the template)."""
    sources = {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for folder in ("relaxbook", "tests")
        for p in sorted((ROOT / folder).rglob("*.py"))
    }
    pages = {f"{page}.md" for page in toc_files()} | {
        str(p.relative_to(ROOT)) for p in (ROOT / "chapters").glob("*.md")
    }
    for page in sorted(pages):
        text = (ROOT / page).read_text(encoding="utf-8")
        for n, cell in enumerate(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S)):
            code = "\n".join(l for l in cell.splitlines() if not l.startswith((":", "%", "!")))
            sources[f"{page} cell {n + 1}"] = code
    return sources


def imported_modules() -> dict[str, set[str]]:
    """Top-level module -> where it is imported (absolute imports only; relative ones are local)."""
    found: dict[str, set[str]] = {}
    for where, code in python_sources().items():
        for node in ast.walk(ast.parse(code, filename=where)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(where)
    return found


def test_pip_check_is_clean():
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_third_party_import_is_in_the_lock():
    modules = imported_modules()
    assert {"pandas", "pytest", "relaxbook"} <= set(modules), "the import walk found too little: is it broken?"
    dists = packages_distributions()
    lock = locked()
    missing = []
    for module, where in sorted(modules.items()):
        if module in sys.stdlib_module_names or module in LOCAL or module.startswith("test_"):
            continue
        candidates = {normalise(d) for d in dists.get(module, [])}
        if not candidates & lock:
            missing.append(f"{module} (distribution {sorted(candidates) or 'unknown'}; imported in {sorted(where)[0]})")
    assert not missing, "imports not covered by requirements.lock:\n" + "\n".join(missing)


def test_lock_check_catches_an_unlocked_import(monkeypatch):
    """The check above would fail for an import that no locked distribution provides."""
    monkeypatch.setattr(
        sys.modules[__name__],
        "python_sources",
        lambda: {"x.py": "import pandas, pytest, relaxbook\nimport surely_not_installed_module\n"},
    )
    try:
        test_every_third_party_import_is_in_the_lock()
    except AssertionError as exc:
        assert "surely_not_installed_module" in str(exc)
    else:
        raise AssertionError("an unlocked import was not reported")


def test_make_book_refuses_an_old_python_clearly(tmp_path):
    if shutil.which("make") is None:
        raise AssertionError("make is required")
    fake = tmp_path / "python3.9"
    fake.write_text("#!/bin/sh\necho 'Python 3.9.18'\n")
    fake.chmod(0o755)
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(ROOT / "Makefile", book / "Makefile")
    for name in ("requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, book / name)
    result = run(["make", "--no-print-directory", "book", f"PYTHON={fake}"], cwd=book)
    assert result.returncode != 0
    assert "Python >= 3.11 is required" in result.stderr and "3.9.18" in result.stderr, result.stderr
    assert not (book / ".venv").exists(), "nothing may be installed with the wrong Python"


def test_make_check_python_accepts_this_python(tmp_path):
    result = run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "check-python", f"PYTHON={sys.executable}"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
