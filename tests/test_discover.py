"""Discoverability without the network (relaxbook/ext/discover.py, sphinxext-opengraph): sitemap.xml lists exactly
the book's pages at their public address, and every page has OpenGraph and Twitter card tags whose image is a file
of the site. The public address is set once, as html_baseurl in _config.yml."""

from __future__ import annotations

import re
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest
import yaml
from bs4 import BeautifulSoup
from docutils.core import publish_doctree

from conftest import ROOT, site_pages, toc_files
from relaxbook.ext import discover

BASE = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]["html_baseurl"]
CFF = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def test_base_url_is_the_published_site():
    assert BASE == "https://evidence-books.github.io/muscle-relaxants/"


def test_sitemap_lists_exactly_the_books_pages(site):
    root = ElementTree.parse(site / "sitemap.xml").getroot()
    assert root.tag == f"{{{NS['s']}}}urlset"
    locs = [loc.text for loc in root.findall("s:url/s:loc", NS)]
    assert len(locs) == len(set(locs)) and locs == sorted(locs)
    pages = [p for p in site_pages(site) if p not in {"search.html", "genindex.html"}]
    assert sorted(locs) == sorted(BASE + p for p in pages) and len(pages) == len(toc_files())


def test_sitemap_comes_from_every_document_not_the_pages_written_in_this_build(tmp_path):
    """An incremental build writes only changed pages; the sitemap still lists every document (synthetic app)."""
    app = SimpleNamespace(
        config=SimpleNamespace(html_baseurl="https://x.org/b"),
        builder=SimpleNamespace(name="html", get_target_uri=lambda doc: f"{doc}.html"),
        env=SimpleNamespace(found_docs={"intro", "chapters/b", "chapters/a"}),
        outdir=str(tmp_path),
    )
    discover._build_finished(app, None)
    locs = [e.text for e in ElementTree.parse(tmp_path / "sitemap.xml").getroot().findall("s:url/s:loc", NS)]
    assert locs == ["https://x.org/b/chapters/a.html", "https://x.org/b/chapters/b.html", "https://x.org/b/intro.html"]


def test_description_is_the_first_paragraph_of_prose_not_the_notice_or_the_data_box():
    doc = publish_doctree(
        "Title\n=====\n\n.. warning:: Not medical advice.\n\n"
        ".. container:: data-downloads\n\n   Data behind this page\n\n"
        "First *real* paragraph, " + "long " * 60 + "\n\nSecond.\n"
    )
    text = discover.page_description(doc)
    assert text.startswith("First real paragraph, long") and text.endswith("…") and len(text) <= 200
    assert discover.page_description(publish_doctree("Title\n=====\n\n.. note:: only a notice\n")) is None


def props(html: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in BeautifulSoup(html, "html.parser").find_all("meta"):
        key = m.get("property") or m.get("name")
        if key:
            out.setdefault(key, []).append(m.get("content", ""))
    return out


@pytest.mark.parametrize("name", toc_files())
def test_every_page_has_opengraph_and_twitter_tags_and_its_image_exists(site, name):
    html = (site / f"{name}.html").read_text(encoding="utf-8")
    tags = props(html)
    for key in ("og:title", "og:description", "og:url", "og:image", "twitter:card", "description"):
        assert len(tags.get(key, [])) == 1 and tags[key][0].strip(), (name, key)
    assert tags["og:url"] == [f"{BASE}{name}.html"]
    title = BeautifulSoup(html, "html.parser").select_one("main h1").get_text().strip("#").strip()
    assert tags["og:title"] == [CFF["title"] if name == "intro" else title]
    description = tags["og:description"][0]
    assert description == tags["description"][0] and "not medical advice" not in description.lower()
    assert not description.startswith("Data behind this page")
    if name == "intro":
        abstract = " ".join(CFF["abstract"].split())
        assert abstract.startswith(description.removesuffix("…")) and len(description) <= 200
    image = tags["og:image"][0]
    assert image.startswith(BASE) and (site / image.removeprefix(BASE)).is_file()
    assert tags["og:site_name"] == [CFF["title"]]


def test_og_image_is_1200_by_630():
    from PIL import Image

    with Image.open(ROOT / "_static" / "og-image.png") as im:
        assert im.size == (1200, 630)


def test_absolute_urls_in_head_name_only_the_sites_own_address(site):
    """Nothing in a page's head points at another host (JSON-LD vocabulary and licence ids aside, which are names)."""
    for name in site_pages(site):
        head = BeautifulSoup((site / name).read_text(encoding="utf-8"), "html.parser").head
        urls = [m.get("content", "") for m in head.find_all("meta")]
        urls += [link.get("href", "") for link in head.find_all("link")]
        for url in urls:
            if re.match(r"^(https?:)?//", url):
                assert url.startswith(BASE), (name, url)
