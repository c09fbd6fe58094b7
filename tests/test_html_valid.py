"""Valid, self-contained HTML: the Nu Html Checker (npm vnu-jar, run with Java) finds no error on any page,
our offline checker finds no broken internal link or anchor, and no page references MathJax or a CDN."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, site_pages

VNU = ROOT / "_build" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
BROKEN = '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p><div>bad nesting</p></body></html>'


def test_every_page_is_valid_html(site, tmp_path):
    if not VNU.exists() or not shutil.which("java"):
        pytest.fail("vnu.jar or java missing: run `make test` (it installs both)")
    bad = tmp_path / "broken.html"
    bad.write_text(BROKEN)
    pages = [site / p for p in site_pages(site)]
    out = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--stdout", str(bad), *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(out.stdout)["messages"]
    errors = [
        f"{m['url'].split('/html/')[-1]}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m.get("type") == "error" and not m["url"].endswith("broken.html")
    ]
    assert any(m["url"].endswith("broken.html") for m in messages), "the checker did not flag a broken page"
    assert len(pages) >= 10
    assert errors == [], "\n".join(errors[:30])


def broken_internal_links(site: Path) -> tuple[int, list[str]]:
    """Every href/src inside the site that points inside it: the file must exist and a #fragment must be an id (or
    name) on the target page. Returns (links checked, problems). Offline and fast; external URLs are not fetched."""
    from urllib.parse import unquote

    ids: dict[Path, set[str]] = {}

    def anchors(path: Path) -> set[str]:
        if path not in ids:
            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids[path] = {t["id"] for t in soup.find_all(id=True)} | {
                t["name"] for t in soup.find_all("a", attrs={"name": True})
            }
        return ids[path]

    checked, broken = 0, []
    pages = [p for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in {"_static", "_sources"}]
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["a", "link", "img", "script", "source"]):
            url = tag.get("href") or tag.get("src")
            if not url or re.match(r"^([a-z][a-z0-9+.-]*:|//)", url, re.I):
                continue  # external, mailto:, data: -- not ours to check offline
            path, _, frag = url.partition("#")
            target = (page.parent / unquote(path.split("?")[0])).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            where = f"{url} (on {page.relative_to(site)})"
            if not target.exists():
                broken.append(f"{where}: no such file")
            elif frag and target.suffix == ".html" and unquote(frag) not in anchors(target):
                broken.append(f"{where}: no anchor #{frag}")
    return checked, broken


def test_the_link_checker_finds_broken_files_and_anchors(tmp_path):
    (tmp_path / "a.html").write_text(
        '<p id="here"><a href="b.html#nowhere">x</a><a href="#here">y</a>'
        '<a href="gone.csv">z</a><a href="https://example.org/">w</a></p>'
    )
    (tmp_path / "b.html").write_text('<p id="somewhere">b</p>')
    checked, broken = broken_internal_links(tmp_path)
    assert checked == 3
    assert broken == ["b.html#nowhere (on a.html): no anchor #nowhere", "gone.csv (on a.html): no such file"]


def test_no_internal_link_or_anchor_is_broken(site):
    checked, broken = broken_internal_links(site)
    assert checked > 1000, "the checker saw too few links"
    assert broken == [], "\n".join(broken[:50])


def test_no_page_references_mathjax_or_a_cdn(site):
    """The site has no maths, so it loads no MathJax (vendor npm mathjax@3 outside _static/ if that changes). Thebe's
    URL sits inline in every page but is fetched only when a reader launches a live kernel, and no page offers that."""
    cdn = re.compile(r"^(https?:)?//", re.I)
    for name in site_pages(site):
        html = (site / name).read_text(encoding="utf-8")
        assert not re.search(r"mathjax(?!_ignore)", html, re.I), f"{name} references MathJax"  # not the CSS class
        soup = BeautifulSoup(html, "html.parser")
        for tag in soup.find_all(["script", "link", "img", "iframe", "source", "video", "audio"]):
            ref = tag.get("src") or (
                tag.get("href") if tag.name == "link" and tag.get("rel") != ["canonical"] else None
            )
            assert not (ref and cdn.match(ref)), f"{name} loads {ref}"
        assert not soup.select(".thebe-launch-button, .dropdown-launch-buttons"), f"{name} offers a live kernel"
