"""Every page in _toc.yml follows the chapter contract (CONTRIBUTING.md): front matter with a kernel, a stable
label before the title, the shared notice, alt text on every glued figure, and its own References section."""
from __future__ import annotations

import re

import pytest
import yaml

from conftest import ROOT, toc_files


def source(page):
    return (ROOT / f"{page}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", toc_files())
def test_chapter_has_jupytext_front_matter_with_kernelspec(page):
    text = source(page)
    assert text.startswith("---\n"), "no front matter"
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["kernelspec"]["name"] == "python3"
    assert meta["jupytext"]["text_representation"]["format_name"] == "myst"


@pytest.mark.parametrize("page", toc_files())
def test_chapter_has_a_stable_label_before_its_title(page):
    body = source(page).split("---\n", 2)[2].lstrip()
    assert re.match(r"\([a-z][a-z0-9-]*\)=\n# \S", body), "expected '(label)=' then '# Title'"


@pytest.mark.parametrize("page", toc_files())
def test_chapter_includes_the_notice_and_calls_setup(page):
    text = source(page)
    assert re.search(r"```\{include\} (chapters/)?_notice\.md", text)
    assert re.search(r"book\.setup\((\s*\"[^\"]+\",?)*\s*\)", text)


@pytest.mark.parametrize("page", toc_files())
def test_every_declared_table_or_view_exists_in_the_data_package(page):
    from relaxbook import datapkg

    for spec in datapkg.declared_specs(source(page)) or []:
        datapkg.parse_view(spec)  # raises DataError naming the file and column of what does not exist


@pytest.mark.parametrize("page", toc_files())
def test_every_glued_figure_has_alt_text(page):
    text = source(page)
    for block in re.findall(r"```\{glue:figure\}[^\n]*\n(.*?)```", text, re.S):
        alt = re.search(r":alt: (.+)", block)
        assert alt and len(alt.group(1)) > 40, block[:80]
        assert ":name: fig-" in block


@pytest.mark.parametrize("page", toc_files())
def test_chapter_ends_with_a_references_section(page):
    text = source(page)
    assert "## References" in text or page.endswith("references")
    assert "```{bibliography}" in text


@pytest.mark.parametrize("page", toc_files())
def test_code_cells_are_short(page):
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", source(page), re.S):
        lines = [l for l in cell.splitlines() if l.strip() and not l.startswith(":")]
        assert len(lines) <= 12, f"a cell of {len(lines)} lines: move the logic into relaxbook/"


def test_contract_catches_a_chapter_without_notice(tmp_path, monkeypatch):
    bad = tmp_path / "chapters"
    bad.mkdir()
    (bad / "x.md").write_text("---\nkernelspec:\n  name: python3\n---\n# No label\n")
    monkeypatch.setattr("test_chapter_contract.ROOT", tmp_path)
    with pytest.raises(AssertionError):
        test_chapter_includes_the_notice_and_calls_setup("chapters/x")
    with pytest.raises(AssertionError):
        test_chapter_has_a_stable_label_before_its_title("chapters/x")


def test_every_table_of_the_data_package_is_shown_by_some_page():
    """A table no page declares is data the reader never sees (findings.csv was such a table)."""
    import json

    from relaxbook import cache

    declared = set()
    for page in toc_files():
        declared |= set(cache.declared_tables((ROOT / f"{page}.md").read_text(encoding="utf-8")) or [])
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["name"] for r in package["resources"]} - declared == set()
