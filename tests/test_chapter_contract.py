"""Every page in _toc.yml follows the chapter contract (CONTRIBUTING.md): front matter with a kernel, a stable
label before the title, the shared notice, a ``book.setup`` call naming real tables, alt text on every glued figure,
and its own References section. The rules live in relaxbook/ext/strict.py, so `jupyter-book build .` by hand
fails on a breach too; these tests run them on every page and on broken variants."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT, toc_files
from relaxbook.ext.strict import contract_problems, unlisted_chapters

TABLES = {r["name"] for r in json.loads((ROOT / "data" / "datapackage.json").read_text())["resources"]}
TEMPLATE = (ROOT / "chapters" / "_template.md").read_text(encoding="utf-8")


def source(page):
    return (ROOT / f"{page}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", toc_files())
def test_every_page_keeps_the_chapter_contract(page):
    assert contract_problems(source(page), TABLES, page.endswith("references")) == []


def test_the_template_keeps_the_contract():
    assert contract_problems(TEMPLATE, TABLES) == []


@pytest.mark.parametrize(
    "old, new, problem",
    [
        ("kernelspec:", "kernelspecs:", "kernelspec"),
        ("format_name: myst", "format_name: markdown", "jupytext"),
        ("(chapter-label)=\n", "", "(label)="),
        ("```{include} _notice.md\n```\n", "", "_notice.md"),
        ('book.setup("studies")', 'book.setup("studiez")', "'studiez'"),
        ('book.setup("studies")', "book.setup(TABLES)", "string literals"),
        ('book.setup("studies")', "pass", "book.setup"),
        ("## References", "## Sources", "References"),
    ],
)
def test_each_breach_of_the_contract_is_named(old, new, problem):
    assert old in TEMPLATE
    problems = contract_problems(TEMPLATE.replace(old, new, 1), TABLES)
    assert len(problems) == 1 and problem in problems[0], problems


def test_a_glued_figure_needs_alt_text_and_a_fig_name():
    figure = "```{glue:figure} fig-x\n:alt: short\n:name: x\n```\n"
    problems = contract_problems(TEMPLATE + figure, TABLES)
    assert len(problems) == 2 and "alt text" in problems[0] and "fig-" in problems[1]


def test_a_chapter_missing_from_the_toc_is_found(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/a\n")
    for name in ("a", "b", "_partial"):
        (tmp_path / "chapters" / f"{name}.md").write_text("# x\n")
    assert unlisted_chapters(tmp_path) == ["chapters/b"]
    assert unlisted_chapters(ROOT) == []


@pytest.mark.parametrize("page", toc_files())
def test_code_cells_are_short(page):
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", source(page), re.S):
        lines = [l for l in cell.splitlines() if l.strip() and not l.startswith(":")]
        assert len(lines) <= 12, f"a cell of {len(lines)} lines: move the logic into relaxbook/"


def test_every_table_of_the_data_package_is_shown_by_some_page():
    """A table no page declares is data the reader never sees (findings.csv was such a table)."""
    from relaxbook.data.datapkg import declared_tables

    declared = set()
    for page in toc_files():
        declared |= set(declared_tables(source(page)) or [])
    assert TABLES - declared == set()
