"""Atomic output: `make book` builds into a temporary folder and replaces _build/html only when the build succeeded.
A failed build (invalid data, or a chapter that raises) exits non-zero and leaves the previous site byte-for-byte
untouched, with no stamp update and no temporary folder left behind; a new commit makes the site out of date (its
footer names the commit). Runs on a scratch copy with a one-chapter toc."""

from __future__ import annotations

import pytest

from conftest import make, reduced_toc, run, tree_hashes

pytestmark = pytest.mark.build


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text


def git(root, *args):
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    assert run(["git", *identity, *args], cwd=root).returncode == 0, args


def test_a_failed_build_leaves_the_previous_site_untouched(scratch):
    reduced_toc(scratch, "safety")
    git(scratch, "init", "-q")
    git(scratch, "add", "-A")
    git(scratch, "commit", "-q", "-m", "the book")
    good = make(scratch, "_build/.built")
    assert good.returncode == 0, (good.stdout + good.stderr)[-3000:]
    site, stamp = scratch / "_build" / "html", scratch / "_build" / ".built"
    before, stamp_time = tree_hashes(site), stamp.stat().st_mtime_ns
    assert "chapters/safety.html" in before and "scratch_root.html" in before
    executed = tree_hashes(scratch / "_build" / "jupyter_execute")
    assert executed
    assert make(scratch, "-q", "_build/.built").returncode == 0, "a fresh site must count as up to date"
    git(scratch, "commit", "-q", "--allow-empty", "-m", "a new commit")  # every page names the commit and its date
    assert make(scratch, "-q", "_build/.built").returncode == 1, "after a new commit the site must be rebuilt"

    # 1. invalid data: make stops at validation, before building
    studies = scratch / "data" / "studies.csv"
    original = edit(studies, ",13,patients with spasticity,", ",thirteen,patients with spasticity,")
    bad = make(scratch, "_build/.built")
    assert bad.returncode != 0
    assert "data/studies.csv, row 4, column 'n_total': 'thirteen' is not an integer [type]" in bad.stderr
    assert tree_hashes(site) == before and stamp.stat().st_mtime_ns == stamp_time
    studies.write_text(original, encoding="utf-8")

    # 2. a chapter that raises: the build itself fails after it started writing into the temporary folder
    edit(
        scratch / "chapters" / "safety.md",
        "safety.adverse_effects_table()",
        "safety.adverse_effects_table()\nraise RuntimeError('deliberate failure 9c1e')",
    )
    bad = make(scratch, "_build/.built")
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "  chapters/safety.md: RuntimeError: deliberate failure 9c1e [cell-error]" in bad.stderr, out[-3000:]
    assert "previous site in _build/html is unchanged" in bad.stderr
    assert tree_hashes(site) == before, "the failed build changed the published site"
    assert tree_hashes(scratch / "_build" / "jupyter_execute") == executed
    assert stamp.stat().st_mtime_ns == stamp_time, "a failed build must not mark the site as built"
    assert not list((scratch / "_build").glob("tmp.*")), "temporary build folder left behind"
    assert not list((scratch / "_build").glob("*.old"))
    assert make(scratch, "-q", "_build/.built").returncode == 1, "after a failure, the next make book must rebuild"
