"""Valid, self-contained HTML: the Nu Html Checker (npm vnu-jar, run with Java) finds no error on any page,
linkchecker (external checks off) finds no broken internal link or anchor, and no page references MathJax or a CDN."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

from conftest import BIN, ROOT, site_pages

VNU = ROOT / "_build" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
BROKEN = '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p><div>bad nesting</p></body></html>'


def test_every_page_is_valid_html(site, tmp_path):
    if not VNU.exists() or not shutil.which("java"):
        pytest.fail("vnu.jar or java missing: run `make test` (it installs both)")
    bad = tmp_path / "broken.html"
    bad.write_text(BROKEN)
    pages = [site / p for p in site_pages(site)]
    out = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--stdout",
                          str(bad), *map(str, pages)], capture_output=True, text=True, timeout=600)
    messages = json.loads(out.stdout)["messages"]
    errors = [f"{m['url'].split('/html/')[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages
              if m.get("type") == "error" and not m["url"].endswith("broken.html")]
    assert any(m["url"].endswith("broken.html") for m in messages), "the checker did not flag a broken page"
    assert len(pages) >= 10
    assert errors == [], "\n".join(errors[:30])


def test_no_internal_link_or_anchor_is_broken(server, tmp_path):
    config = tmp_path / "linkcheckerrc"
    config.write_text("[checking]\nthreads=4\nmaxrequestspersecond=1000\n[filtering]\ncheckextern=0\n[AnchorCheck]\n")
    starts = [f"{server}/{p}" for p in ("intro.html", "genindex.html", "search.html")]
    out = subprocess.run([str(BIN / "linkchecker"), "-f", str(config), "--no-status", "-v", "-o", "csv", *starts],
                         capture_output=True, text=True, timeout=900)
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in out.stdout.splitlines() if not l.startswith("#"))),
                               delimiter=";"))
    checked = {r["url"].split("#")[0] for r in rows if r["url"].startswith(server)}
    broken = [f"{r['urlname']} (on {r['parentname']}): {r['result']}" for r in rows if r["valid"] != "True"]
    assert {f"{server}/{p}" for p in site_pages()} <= checked, "linkchecker did not reach every page"
    assert any(u.endswith("book.pdf") for u in checked) and any(u.endswith(".csv") for u in checked)
    assert broken == [] and out.returncode == 0, "\n".join(broken) or out.stderr[-2000:]


def test_no_page_references_mathjax_or_a_cdn(site):
    """The site has no maths, so it loads no MathJax (vendor npm mathjax@3 outside _static/ if that changes). Thebe's
    URL sits inline in every page but is fetched only when a reader launches a live kernel, and no page offers that."""
    cdn = re.compile(r"^(https?:)?//", re.I)
    for name in site_pages(site):
        html = (site / name).read_text(encoding="utf-8")
        assert not re.search(r"mathjax(?!_ignore)", html, re.I), f"{name} references MathJax"  # not the CSS class
        soup = BeautifulSoup(html, "html.parser")
        for tag in soup.find_all(["script", "link", "img", "iframe", "source", "video", "audio"]):
            ref = tag.get("src") or (tag.get("href") if tag.name == "link" and tag.get("rel") != ["canonical"] else None)
            assert not (ref and cdn.match(ref)), f"{name} loads {ref}"
        assert not soup.select(".thebe-launch-button, .dropdown-launch-buttons"), f"{name} offers a live kernel"
