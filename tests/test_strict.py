"""`jupyter-book build .` by hand, with no flags, fails on the problems `make book` fails on (relaxbook/ext/strict.py)
and a copied checkout builds its own files (relaxbook/ext/__init__.py)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from conftest import BIN, JUPYTER_BOOK, reduced_toc

pytestmark = pytest.mark.build


def hand_build(root, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("RELAXBOOK_ROOT", "PYTHONPATH")} | env
    result = subprocess.run(
        [*JUPYTER_BOOK, "build", "."], cwd=root, env=full, capture_output=True, text=True, timeout=600
    )
    return result.returncode, re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_hand_build_fails_on_each_problem_and_names_it_in_its_last_lines(scratch):
    reduced_toc(scratch, "safety")
    safety = scratch / "chapters" / "safety.md"
    original = safety.read_text(encoding="utf-8")
    edit(safety, "## References", "Unknown: {cite:p}`nosuchkey2099` and {claim}`c999`.\n\n## References")
    edit(safety, "```{include} _notice.md\n```\n", "")
    (scratch / "chapters" / "draft.md").write_text("# A draft nobody listed\n")
    code, out = hand_build(scratch, PYTHONPATH=str(scratch))
    assert code != 0, out[-3000:]
    tail = "\n".join(out.splitlines()[-12:])
    for cause in (
        "nosuchkey2099",
        "unknown claim id 'c999'",
        "chapter contract: does not include _notice.md",
        "chapters/draft.md is not listed in _toc.yml",
    ):
        assert cause in tail, f"{cause!r} not in the last lines:\n{tail}"
    # fixed, the next build by hand succeeds (and re-reads every page, so it cannot hide a problem)
    safety.write_text(original, encoding="utf-8")
    (scratch / "chapters" / "draft.md").unlink()
    code, out = hand_build(scratch, PYTHONPATH=str(scratch))
    assert code == 0, out[-3000:]


def test_a_copied_checkout_shows_its_own_edit_and_never_runs_another_copys_code(scratch):
    reduced_toc(scratch, "safety")
    edit(
        scratch / "data" / "adverse_effects.csv",
        "baclofen,transient drowsiness,",
        "baclofen,drowsiness (copy's own edit),",
    )
    code, out = hand_build(scratch)  # this venv's relaxbook is the original checkout's
    assert code != 0 and "the virtual environment was made for another copy of the book" in out, out[-2000:]
    code, out = hand_build(scratch, PYTHONPATH=str(scratch))  # the copy's own package (make book installs it)
    assert code == 0, out[-3000:]
    assert "drowsiness (copy's own edit)" in (scratch / "_build" / "html" / "chapters" / "safety.html").read_text()


def test_make_refuses_a_linked_venv_that_runs_another_checkouts_code_even_from_the_copys_folder(scratch):
    """`make` asks the venv's Python where relaxbook lives without the current folder on its path (python -P):
    run from the copy's root, a plain `python -c 'import relaxbook'` finds the copy's folder and would hide that the
    venv's own install is the original checkout's."""
    (scratch / ".venv").symlink_to(BIN.parent, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RELAXBOOK_ROOT")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "check-venv"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "links to a virtual environment" in result.stderr, result.stderr
