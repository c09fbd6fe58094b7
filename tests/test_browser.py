"""Real-browser tests: Debian chromium driven by Playwright against the site served on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile

import pytest

from conftest import BROWSER_TIMEOUT_MS, ROOT, SITE, open_page, site_pages, svg_text_sizes, toc_files

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
    """Every page a reader can open, search results included, loads nothing from outside 127.0.0.1."""
    external, issued = [], []
    local = (server, "data:", "blob:", "about:")
    page.on("request", lambda r: issued.append(r.url))
    page.on("request", lambda r: external.append((page.url, r.url)) if not r.url.startswith(local) else None)
    names = site_pages()
    assert {"search.html", "genindex.html"} <= set(names) and len(names) > len(toc_files())
    for name in names + ["search.html?q=baclofen"]:
        page.goto(f"{server}/{name}")
        # after "load", until the page has issued no new request for half a second (a late script's request is
        # caught when issued; unlike Playwright's "networkidle", a slow local reply cannot stall this)
        for _ in range(30):
            before = len(issued)
            page.wait_for_timeout(500)
            if len(issued) == before:
                break
    assert external == []


STATUS = re.compile(r"\b(verified|partly verified|unsupported|contradicted|not found)\b")
STATUS_CELL = re.compile(r"^\s*[✔◐✖⚠?]\s*(verified|partly verified|unsupported|contradicted|not found)\s*$")
CONTENT_PAGES = [f"{p}.html" for p in toc_files()]

# A claim marker is reachable from the keyboard when it is focusable itself (a badge), or when its text sits in a
# table that fits the screen (read in normal flow) or in a scroll container the keyboard can focus and scroll.
MARKER_INFO = """el => {
  const badge = el.matches('.claim-badge');
  if (badge) el.focus();
  const box = el.closest('.pst-scrollable-table-container, .table-wrapper, .bd-table-wrapper') || el.closest('table');
  return {
    badge, focused: document.activeElement === el, tabIndex: el.tabIndex,
    name: (el.getAttribute('aria-label') || el.innerText || el.title || '').trim(),
    hidden: !!el.closest('[aria-hidden="true"]') || getComputedStyle(el).visibility === 'hidden',
    overflows: box ? box.scrollWidth > box.clientWidth + 1 : false,  // a badge in prose has no table box
    boxFocusable: box ? box.tabIndex >= 0 : true,
  };
}"""


def test_claim_markers_expose_their_status_to_keyboard_focus(page, server):
    """Checks focusable ``.claim-badge`` elements where the chapters have them, the status text cells otherwise."""
    page.set_viewport_size({"width": 390, "height": 844})
    checked = 0
    for name in CONTENT_PAGES:
        open_page(page, f"{server}/{name}")
        badges = page.locator("main .claim-badge")
        markers = badges if badges.count() else page.locator("main td").filter(has_text=STATUS_CELL)
        for i in range(markers.count()):
            info = markers.nth(i).evaluate(MARKER_INFO)
            assert STATUS.search(info["name"]), f"{name}: marker without its status text: {info}"
            assert not info["hidden"], f"{name}: status hidden from assistive technology"
            if info["badge"]:
                assert info["focused"] and info["tabIndex"] >= 0, f"{name}: badge not focusable: {info}"
            else:
                assert not info["overflows"] or info["boxFocusable"], f"{name}: scrolling table not focusable"
            checked += 1
    assert checked >= 10


DOWNLOAD_TYPES = {".csv": "text/csv", ".zip": "application/zip", ".pdf": "application/pdf"}


def test_every_download_link_returns_its_file(page, server):
    seen = set()
    for name in CONTENT_PAGES:
        open_page(page, f"{server}/{name}")
        hrefs = page.eval_on_selector_all("main .data-downloads a", "els => els.map(e => e.href)")
        assert any(h.endswith(".zip") for h in hrefs) and any(h.endswith(".pdf") for h in hrefs), name
        for url in sorted(set(hrefs) - seen):
            seen.add(url)
            suffix = "." + url.rsplit(".", 1)[1]
            response = page.request.get(url)
            assert response.status == 200, url
            assert response.headers["content-type"].startswith(DOWNLOAD_TYPES[suffix]), (url, response.headers)
            body = response.body()
            if suffix == ".csv":
                header = next(csv.reader(io.StringIO(body.decode("utf-8"))))
                source = (ROOT / "data" / url.rsplit("/", 1)[1]).read_text(encoding="utf-8")
                assert header == next(csv.reader(io.StringIO(source))), url
            elif suffix == ".zip":
                assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
            else:
                assert body.startswith(b"%PDF-") and len(body) > 20_000
    assert len([u for u in seen if u.endswith(".csv")]) >= 5


SHOTS = SITE.parent / "screenshots"
LAYOUT = """() => {
  const doc = document.documentElement, vw = doc.clientWidth;
  const scroller = el => { for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return p; } return null; };
  const lum = c => { const [r, g, b] = (c.match(/[0-9.]+/g) || [0, 0, 0]).map(Number); return (0.2126*r + 0.7152*g + 0.0722*b) / 255; };
  return {
    theme: doc.dataset.theme, overflow: doc.scrollWidth - vw,
    images: [...document.querySelectorAll('main img')].map(i => { const r = i.getBoundingClientRect();
      const s = scroller(i), box = (s || i).getBoundingClientRect();
      return {src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0, left: box.left, right: box.right, vw,
              scrolls: !!s && s.scrollWidth > s.clientWidth + 1,
              width: r.width, bg: getComputedStyle(i).backgroundColor, bgLight: lum(getComputedStyle(i).backgroundColor)}; }),
    tables: [...document.querySelectorAll('main table')].map(t => { const s = scroller(t);
      const box = (s || t).getBoundingClientRect();
      return {scrolls: !!s, fits: box.right <= vw + 1 && box.left >= -1,
              wider: t.scrollWidth > (s || t.parentElement).clientWidth + 1,
              captionCut: [...t.querySelectorAll('caption')].some(c => c.scrollWidth > c.clientWidth + 1),
              font: Math.min(...[...t.querySelectorAll('td, th')].map(c => parseFloat(getComputedStyle(c).fontSize)))}; }),
  };
}"""


# Two passes: the theme changes colours, not layout, so the desktop pass is light and the phone pass dark.
@pytest.mark.parametrize("mode,width", [("light", 1280), ("dark", 390)])
def test_figures_and_tables_are_legible_in_light_dark_and_phone_width(browser, server, mode, width):
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
    context.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    images = tables = 0
    for name in CONTENT_PAGES:
        open_page(page, f"{server}/{name}")
        page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
        layout = page.evaluate(LAYOUT)
        assert layout["theme"] == mode, name
        assert layout["overflow"] <= 1, f"{name}: the page scrolls sideways by {layout['overflow']} px at {width} px"
        for img in layout["images"]:
            assert img["loaded"] and img["width"] >= min(250, width * 0.6), f"{name}: {img}"
            assert img["left"] >= -1 and img["right"] <= img["vw"] + 1, f"{name}: figure wider than the screen: {img}"
            if width >= 1280:  # on a desktop every figure fits its column; on a phone it may scroll in its own box
                assert not img["scrolls"], f"{name}: a figure is wider than its column at {width} px: {img['src']}"
            if img["src"].endswith(".svg"):  # its smallest text, as drawn at this width
                drawing, smallest = svg_text_sizes(
                    SITE / posixpath.normpath(posixpath.join(posixpath.dirname(name), img["src"]))
                )
                drawn = smallest * img["width"] / drawing
                assert drawn >= 10 - 0.05, f"{name}: figure text {drawn:.1f} px at {width} px wide: {img['src']}"
            if mode == "dark":  # transparent figures sit on a light panel, or dark text would vanish
                assert img["bgLight"] > 0.8 and not img["bg"].endswith(", 0)"), f"{name}: {img}"
        for table in layout["tables"]:
            assert table["fits"], f"{name}: a table (or its scroll box) is wider than the screen"
            assert not table["captionCut"], f"{name}: a table caption is cut"
            if width >= 1280:  # on a desktop every table fits its column; on a phone it may scroll in its own box
                assert not table["wider"], f"{name}: a table is wider than its column at {width} px"
            assert table["font"] >= 12, f"{name}: table text below 12 px"
        images += len(layout["images"])
        tables += len(layout["tables"])
        page.screenshot(path=SHOTS / f"{name.replace('/', '-')[:-5]}-{mode}-{width}.png")  # the first screen
    context.close()
    assert images >= 5 and tables >= 5
