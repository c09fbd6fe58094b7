"""Real-browser tests: Debian chromium driven by Playwright against the site served on 127.0.0.1."""
from __future__ import annotations

import re

import pytest

from conftest import toc_files

pytestmark = pytest.mark.browser


def test_every_chapter_is_reachable_with_the_next_link(page, server):
    expected = [f"{p}.html" for p in toc_files()]
    page.goto(f"{server}/intro.html")
    visited = [page.url.split(server + "/")[1]]
    while True:
        nxt = page.locator("a.right-next")
        if nxt.count() == 0:
            break
        nxt.first.click()
        page.wait_for_load_state()
        visited.append(page.url.split(server + "/")[1].split("#")[0])
    assert visited[: len(expected)] == expected


def test_citation_link_lands_on_its_reference_entry(page, server):
    page.goto(f"{server}/chapters/clinical.html")
    link = page.locator("span.bibtex-citation a").first
    target = link.get_attribute("href").lstrip("#")
    link.click()
    assert page.url.endswith("#" + target)
    entry = page.locator(f"[id='{target}']")
    assert entry.is_visible()
    assert re.search(r"\w", entry.inner_text())


def test_search_finds_baclofen(page, server):
    page.goto(f"{server}/search.html?q=baclofen")
    results = page.locator("ul.search li")
    results.first.wait_for(timeout=15000)
    assert results.count() >= 3


def test_pages_make_no_external_requests(page, server):
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(server) and not r.url.startswith("data:") else None)
    for p in toc_files():
        page.goto(f"{server}/{p}.html")
        page.wait_for_load_state("networkidle")
    assert external == []
