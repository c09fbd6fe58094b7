"""Page weight: every page with its own images (not the theme's shared _static files or the site's search index,
which browsers cache once for the whole site) stays within 400 KB, and figures are sensibly sized PNG/SVG, not
megabyte screenshots."""

from __future__ import annotations

from urllib.parse import urljoin, urlparse

from bs4 import BeautifulSoup

from conftest import site_pages

BUDGET = 400 * 1024


def own_weight(site, name) -> tuple[int, list[str]]:
    path = site / name
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    assets = set()
    for tag in soup.find_all(["img", "script", "link", "source"]):
        ref = tag.get("src") or (
            tag.get("href") if tag.name == "link" and "stylesheet" in (tag.get("rel") or []) else None
        )
        if not ref or urlparse(ref).scheme:
            continue
        target = urlparse(urljoin(f"/{name}", ref)).path.lstrip("/")
        if not target.startswith("_static/") and target != "searchindex.js":  # shared, cached once for the site
            assets.add(target)
    return path.stat().st_size + sum((site / a).stat().st_size for a in assets), sorted(assets)


def test_largest_page_with_its_own_images_is_within_budget(site):
    weights = {name: own_weight(site, name) for name in site_pages(site)}
    largest = max(weights, key=lambda n: weights[n][0])
    assert weights[largest][0] <= BUDGET, f"{largest}: {weights[largest][0] / 1024:.0f} KB ({weights[largest][1]})"
    assert any(w[1] for w in weights.values()), "no page has its own images: the measure is broken"


def test_figures_are_png_or_svg_and_small(site):
    images = list((site / "_images").iterdir())
    assert images
    for img in images:
        assert img.suffix in {".png", ".svg"}, img.name
        assert img.stat().st_size <= 250 * 1024, f"{img.name}: {img.stat().st_size // 1024} KB"
