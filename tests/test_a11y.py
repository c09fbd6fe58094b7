"""Accessibility: axe-core (bundled by axe-playwright-python, run offline in Debian chromium) on every page, WCAG 2.1
A/AA rules plus the label-in-name rule: no critical or serious violation except those listed with a reason in
tests/a11y_baseline.json. Dark mode is checked for colour contrast too."""

from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe

from conftest import ROOT, open_page, site_pages

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG},
    "resultTypes": ["violations"],
    # experimental in axe, but the theme's search button broke it: keep the fix honest
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}
BASELINE = json.loads((ROOT / "tests" / "a11y_baseline.json").read_text(encoding="utf-8"))["entries"]


def accepted(rule: str, page: str) -> bool:
    return any(e["rule"] == rule and (e["pages"] == "*" or page in e["pages"]) for e in BASELINE)


def serious(results: dict, page: str) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['nodes'][0]['html'][:160]}"
        for v in results["violations"]
        if v["impact"] in ("critical", "serious") and not accepted(v["id"], page)
    ]


def test_baseline_entries_give_a_reason():
    for entry in BASELINE:
        assert entry.get("rule") and entry.get("pages") and len(entry.get("reason", "")) > 20, entry


# Dark mode changes colours only. The theme's own colours (text, links, navigation, tables) are checked on the whole
# landing page; on every other page of the book, the parts the book colours itself: claim badges (_static/claims.css),
# admonitions (the notice, key points), the data box, captions and the build stamp. (Checking colour contrast is
# axe's slowest rule: on the largest pages it takes most of the run, and the light pass already checks every page.)
BOOK_COLOURED = [".claim-badge", ".admonition", ".data-downloads", "figcaption", "caption", ".build-stamp"]


def switch_to_dark(page) -> None:
    """What the theme's light/dark switch does: the page's colours change in place (no reload)."""
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.evaluate("(() => { const d = document.documentElement.dataset; d.mode = 'dark'; d.theme = 'dark'; })()")
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != light, f"the page's background stayed {light} in dark mode"


def dark_contrast(page, name: str) -> list[str]:
    switch_to_dark(page)
    parts = [s for s in BOOK_COLOURED if page.locator(s).count()]
    assert ".admonition" in parts and ".build-stamp" in parts, f"{name}: the notice or the build stamp is missing"
    context = None if name == "intro.html" else {"include": [[s] for s in parts]}
    results = Axe().run(page, context=context, options={"runOnly": ["color-contrast"], "resultTypes": ["violations"]})
    return serious(results.response, name)


@pytest.mark.parametrize("name", site_pages())
def test_page_has_no_critical_or_serious_axe_violations_in_light_or_dark_mode(page, server, name):
    """Every page in light mode; then the book's pages (the landing page and the chapters) switched to dark mode,
    checked for colour contrast (BOOK_COLOURED)."""
    open_page(page, f"{server}/{name}")
    results = Axe().run(page, options=OPTIONS).response
    assert results["testEngine"]["name"] == "axe-core"
    assert not serious(results, name), "\n".join(serious(results, name))
    if name.startswith(("intro", "chapters/")):
        problems = dark_contrast(page, name)
        assert not problems, "dark mode:\n" + "\n".join(problems)


def test_dark_mode_check_of_the_book_s_parts_catches_a_badge_without_contrast(page, server):
    """The narrowed dark-mode check still sees a badge whose text vanishes on its background."""
    open_page(page, f"{server}/chapters/safety.html")
    page.add_style_tag(content="html[data-theme='dark'] .claim-badge { color: #262626 !important; }")
    assert any(p.startswith("color-contrast") for p in dark_contrast(page, "chapters/safety.html"))


def test_axe_catches_a_list_without_list_items(page, server):
    """The check itself works: the markup docutils wrote before relaxbook/site.py fixed it is flagged."""
    open_page(page, f"{server}/intro.html")
    page.evaluate("""document.querySelector('main').insertAdjacentHTML('beforeend',
        '<div role="list" class="citation-list"><div class="citation" role="doc-biblioentry"><p>x</p></div></div>')""")
    results = Axe().run(page, options=OPTIONS).response
    assert any(v["id"] == "aria-required-children" for v in results["violations"])
