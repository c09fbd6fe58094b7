"""ruff (configured in pyproject.toml, run by the pre-commit hook) passes on the package and the tests: lint and
format, so `make test` fails on what the hook would have caught."""

from __future__ import annotations

import subprocess

import pytest

from conftest import BIN, ROOT


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_is_clean(command):
    result = subprocess.run(
        [str(BIN / "ruff"), *command, "relaxbook", "tests"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pre_commit_hook_runs_the_same_checks():
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert ".venv/bin/ruff check" in config and ".venv/bin/ruff format" in config
