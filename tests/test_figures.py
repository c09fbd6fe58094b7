"""Figures: SVG with real text, deterministic; each glued with the rows it draws; in the site each opens full size on
click and links its data (CSV, formula-safe) and its image (SVG), and the CSVs hold exactly the rows drawn (recomputed
from data/ with the csv module only, in tests/recompute.py). The cached rebuild into a fresh output folder is checked
in tests/test_cache.py."""

from __future__ import annotations

import csv
import io
import math
import re
from urllib.parse import urljoin, urlparse

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, open_page, svg_text_sizes, toc_files
from recompute import (
    expected_adverse_effect_rows,
    expected_claim_status_rows,
    expected_forest_rows,
    expected_head_to_head_directions,
)


def bundle(figure) -> tuple[dict, dict]:
    """What ``glue`` stores for a figure: its mime bundle and its output metadata."""
    from IPython.core.formatters import format_display_data

    return format_display_data(figure)


def payload(figure) -> dict:
    from relaxbook import figures

    return bundle(figure)[1][figures.DATA_KEY]


def parsed(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def undeclared(monkeypatch):
    """Figure functions called outside a chapter: every table may be read."""
    from relaxbook.data import datapkg

    monkeypatch.setattr(datapkg, "_declared", None)


@pytest.fixture
def captured(monkeypatch):
    """The matplotlib figure and rows a figure function hands to figures.svg (which still runs)."""
    from relaxbook import figures

    seen = []
    real = figures.svg

    def svg(fig, rows, summary=None):
        seen.append((fig, rows))
        fig.canvas.draw()
        return real(fig, rows, summary)

    monkeypatch.setattr(figures, "svg", svg)
    return seen


# --- the figure layer (no build) -------------------------------------------------------------------------------


def small_chart():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from relaxbook import figures

    figures.use_style()
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.barh(["alpha", "beta"], [1, 2], hatch="//")
    ax.set_xlabel("statements")
    return fig, pd.DataFrame({"drug_id": ["alpha", "beta"], "statements": [1, 2]})


def test_a_chart_is_an_svg_with_real_text_no_date_and_its_rows_beside_it():
    from relaxbook import figures

    fig, rows = small_chart()
    data, metadata = bundle(figures.svg(fig, rows))
    svg = data["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert re.search(r"<text[^>]*>statements</text>", svg), "the axis label must be text, not glyph outlines"
    assert "<dc:date>" not in svg, "a date in the SVG makes two builds differ"
    assert "image/png" not in data
    assert not re.search(r"at 0x[0-9a-f]+", data["text/plain"]), "a memory address in the output is not reproducible"
    assert parsed(metadata[figures.DATA_KEY]["csv"]) == [
        {"drug_id": "alpha", "statements": "1"},
        {"drug_id": "beta", "statements": "2"},
    ]
    assert metadata[figures.DATA_KEY]["numeric"] == ["statements"]


def test_the_readable_width_keeps_the_smallest_text_at_ten_pixels():
    """matplotlib writes font sizes in a style, graphviz in an attribute; both in the drawing's units."""
    from relaxbook.figures import readable_width

    chart = (
        '<svg viewBox="0 0 600 400"><text style="font-size: 12px">a</text><text style="font-size: 8px">b</text></svg>'
    )
    assert readable_width(chart) == 750  # 600 units drawn so that 8 units are 10 px
    diagram = '<svg width="360pt" viewBox="0.00 0.00 360.00 200.00"><text font-size="12.00">a</text></svg>'
    assert readable_width(diagram) == 300
    assert readable_width('<svg viewBox="0 0 10 10"><path d="M0 0"/></svg>') is None


def test_the_same_chart_gives_the_same_svg_bytes():
    from relaxbook import figures

    first, second = (figures.svg(*small_chart()).svg for _ in range(2))
    assert first == second


def test_a_diagram_is_an_svg_with_text_without_internal_ids_and_its_rows_are_its_boxes_and_arrows():
    from relaxbook import figures

    nodes = [("a", "Period 1: baclofen", "step"), ("b", "Washout", "process")]
    figure = figures.flow_diagram(nodes, [("a", "b", "then")])
    svg = bundle(figure)[0]["image/svg+xml"]
    assert ">Period 1: baclofen</text>" in svg and ">then</text>" in svg
    assert "<title>" not in svg and not re.search(r"\bn[0-9a-f]{16}\b", svg), "hashed node ids reach the reader"
    assert parsed(payload(figure)["csv"]) == [
        {"part": "box", "text": "Period 1: baclofen", "kind": "step", "from": "NA", "to": "NA"},
        {"part": "box", "text": "Washout", "kind": "process", "from": "NA", "to": "NA"},
        {"part": "arrow", "text": "then", "kind": "NA", "from": "Period 1: baclofen", "to": "Washout"},
    ]


def test_structures_are_labelled_with_text():
    import pandas as pd
    from rdkit import Chem

    from relaxbook import figures

    figure = figures.molecule_grid(
        [Chem.MolFromSmiles("NCC(CC(=O)O)c1ccc(Cl)cc1")], ["baclofen"], pd.DataFrame({"drug_id": ["baclofen"]})
    )
    assert figure.svg.count("<text") >= len("baclofen") and "<svg" in figure.svg


def test_figure_csv_neutralises_formula_cells_but_not_numbers():
    import pandas as pd

    from relaxbook import figures
    from relaxbook.ext.figures import figure_csv

    rows = pd.DataFrame(
        {
            "label": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "plain"],
            "estimate": [-1.5, 2.0, -0.25, 3.0, 0.0],
        }
    )
    fig, _ = small_chart()
    out = parsed(figure_csv(payload(figures.svg(fig, rows))))
    assert [r["label"] for r in out] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert [r["estimate"] for r in out] == ["-1.5", "2.0", "-0.25", "3.0", "0.0"]


def test_every_figure_function_returns_a_figure_with_rows(undeclared):
    from relaxbook import claims, effects, figures, mechanisms, profiles, safety, search, studies
    from relaxbook.data import datapkg

    made = [
        claims.claim_status_figure(),
        safety.adverse_effects_figure(),
        effects.forest_figure(),
        effects.head_to_head_figure(),
        studies.rob_figure(),
        studies.workflow_figure(),
        studies.source_flow_figure(),
        search.prisma_figure(),
        profiles.structure_figure(),
        profiles.timeline_figure(),
        profiles.dose_figure(),
    ] + [mechanisms.pathway_figure(d) for d in dict.fromkeys(datapkg.load("pathway_steps")["drug_id"])]
    for figure in made:
        assert isinstance(figure, figures.Figure)
        assert "<text" in figure.svg and len(parsed(payload(figure)["csv"])) >= 1


# --- the charts' rows: recomputed from data/, and what is drawn ---------------------------------------------------


def claim_status_counts(text: str) -> dict[tuple[str, str], int]:
    return {(r["chapter"], r["status"]): int(r["statements"]) for r in parsed(text)}


def matrix_cells(text: str) -> list[tuple[str, str, str, str]]:
    return [(r["effect"], r["drug"], r["kind"], r["text"]) for r in parsed(text)]


def forest_values(text: str) -> list[tuple]:
    cols = ["comparison", "label", "outcome", "timepoint", "effect_measure"]
    return sorted(
        tuple(r[c] for c in cols) + tuple(float(r[c]) for c in ("estimate", "ci_low", "ci_high")) for r in parsed(text)
    )


def same_forest(got: list[tuple], expected: list[tuple]) -> bool:
    expected = sorted(expected)
    return len(got) == len(expected) and all(
        g[:5] == e[:5] and all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(g[5:], e[5:], strict=True))
        for g, e in zip(got, expected, strict=True)
    )


def claim_status_bars(csv_text: str) -> list[int]:
    return list(claim_status_counts(csv_text).values())


def test_claim_status_rows_are_the_recomputed_counts_and_the_bars_drawn(undeclared, captured):
    from relaxbook import claims

    text = payload(claims.claim_status_figure())["csv"]
    assert claim_status_counts(text) == expected_claim_status_rows()
    fig, _ = captured[0]
    widths = sorted(p.get_width() for p in fig.axes[0].patches)
    assert widths == sorted(claim_status_bars(text)), "the bars drawn are not the rows downloaded"


def test_safety_matrix_rows_are_the_recomputed_cells_and_the_cells_drawn(undeclared, captured):
    """The matrix's CSV is its cells (kind of effect x drug: what the sources say, recomputed from
    data/adverse_effects.csv), and each cell's text is the one written in the figure at that place."""
    from relaxbook import safety

    cells = matrix_cells(payload(safety.adverse_effects_figure())["csv"])
    assert cells == expected_adverse_effect_rows()
    fig, _ = captured[0]
    ax = fig.axes[0]
    rows = [" ".join(t.get_text().split()) for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    assert [(r, d) for r, d, *_ in cells] == [(r, d) for r in rows for d in columns], "a cell drawn is not a row"
    at = {(round(t.get_position()[0] - 0.5), round(t.get_position()[1] - 0.5)): t.get_text() for t in ax.texts}
    notes = [t.get_text() for t in ax.texts if t.get_rotation() == 90]
    for row, drug, kind, text in cells:
        if kind == "no data":  # one note over the column
            assert text in notes
        else:
            assert at[(columns.index(drug), rows.index(row))] == text, (row, drug)


def test_head_to_head_rows_are_the_recomputed_directions_and_the_rows_drawn(undeclared, captured):
    from relaxbook import effects

    got = parsed(payload(effects.head_to_head_figure())["csv"])
    assert [(r["outcome"], r["direction"]) for r in got] == expected_head_to_head_directions()
    fig, _ = captured[0]
    written = [" ".join(t.get_text().split()) for t in fig.axes[0].texts]
    for r in got:
        assert any(w.startswith(r["study"] + " ") for w in written), r["study"]
        assert r["size"] == "NA" or " ".join(r["size"].split()) in written


def test_labelled_charts_publish_the_labels_they_write(undeclared, captured):
    """RoB cells with the study and domain as written; timeline events and dose marks with their label text."""
    from relaxbook import profiles, studies

    rob = parsed(payload(studies.rob_figure())["csv"])
    ax = captured[-1][0].axes[0]
    names = lambda ticks: [" ".join(t.get_text().split()) for t in ticks]  # noqa: E731
    assert {(r["study"], r["domain"]) for r in rob} == {
        (s, d) for s in names(ax.get_yticklabels()) for d in names(ax.get_xticklabels())
    }
    for figure in (profiles.timeline_figure, profiles.dose_figure):
        labels = [r["label"] for r in parsed(payload(figure())["csv"])]
        written = [t.get_text() for t in captured[-1][0].axes[0].texts]
        assert sorted(labels) == sorted(w for w in written if w in labels) and set(labels) <= set(written)


def test_forest_plot_rows_are_the_recomputed_risk_ratios_and_the_rows_drawn(undeclared, captured):
    from relaxbook import effects

    figure = effects.forest_figure()
    got = forest_values(payload(figure)["csv"])
    assert same_forest(got, expected_forest_rows()), (got, sorted(expected_forest_rows()))
    fig, _ = captured[0]
    written = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {f"{e:.2f} ({lo:.2f} to {hi:.2f})" for *_, e, lo, hi in got} <= written
    assert sum(len(ax.get_yticklabels()) for ax in fig.axes) == len(got)


# --- the built site ----------------------------------------------------------------------------------------------


def resolve(site, page: str, href: str):
    assert href and not urlparse(href).scheme and not href.startswith("data:"), href
    return site / urlparse(urljoin(f"/{page}", href)).path.lstrip("/")


@pytest.mark.parametrize("page", toc_files())
def test_every_figure_opens_full_size_and_links_its_data_and_its_svg(page, pages, site):
    names = re.findall(r"```\{glue:figure\} (\S+)", (ROOT / f"{page}.md").read_text(encoding="utf-8"))
    soup = BeautifulSoup(pages[page], "html.parser")
    figures = [f for f in soup.select("main figure") if f.find("img")]
    assert len(figures) == len(names), f"{page}: {len(figures)} figures on the page, {len(names)} in its source"
    for figure in figures:
        img = figure.find("img")
        link = img.find_parent("a")
        assert link is not None and link.get("href"), f"{page}: {figure['id']} does not open full size"
        assert resolve(site, page, link["href"]) == resolve(site, page, img["src"])
        assert "full size" in link.get_text() and img.get("alt"), "the link needs an accessible name"
        downloads = {
            a.get_text(" ", strip=True).split(" of ")[0]: a["href"] for a in figure.select(".figure-downloads a")
        }
        assert set(downloads) == {"Data (CSV)", "SVG"}, f"{page}: {figure['id']}: {downloads}"
        data = resolve(site, page, downloads["Data (CSV)"])
        assert data.name == f"{figure['id']}.csv" and data.parent == site / "_downloads" / "figures"
        assert len(parsed(data.read_text(encoding="utf-8"))) >= 1, f"{data} has no rows"
        image = resolve(site, page, downloads["SVG"])
        assert image.suffix == ".svg" and image.is_file() and "<svg" in image.read_text(encoding="utf-8")[:1000]
        # never drawn narrower than the width at which its smallest text is 10 px (site.css; a phone scrolls it)
        drawing, smallest = svg_text_sizes(image)
        assert link.get("style") == f"--readable-width: {math.ceil(drawing * 10 / smallest)}px", figure["id"]


def test_alt_texts_say_what_the_data_show(pages):
    """The forest plot's and the risk-of-bias grid's alt texts end with their rows in words (from the data, never
    typed in the chapter): each recomputed here from the CSVs."""
    forest = BeautifulSoup(pages["chapters/effects"], "html.parser").select_one("#fig-forest img")["alt"]
    rows = expected_forest_rows()
    include = sum(lo <= 1 <= hi for *_, lo, hi in rows)
    assert forest.endswith(f". {include} of {len(rows)} intervals include no difference."), forest
    for comparison, label, outcome, _, measure, e, lo, hi in rows:
        assert f"{comparison}, {label}, {outcome}: {measure} {e:.2f} ({lo:.2f} to {hi:.2f})" in forest
    rob = BeautifulSoup(pages["chapters/audit"], "html.parser").select_one("#fig-rob img")["alt"]
    with open(ROOT / "data" / "risk_of_bias.csv", newline="", encoding="utf-8") as f:
        overall = [r["judgement"] for r in csv.DictReader(f) if r["domain"] == "overall"]
    for judgement in set(overall):
        assert f"Overall {judgement} ({overall.count(judgement)}): " in rob, (judgement, rob)


def test_figure_csvs_in_the_site_hold_exactly_the_rows_each_chart_draws(site):
    folder = site / "_downloads" / "figures"
    read = lambda name: (folder / f"{name}.csv").read_text(encoding="utf-8")  # noqa: E731
    assert claim_status_counts(read("fig-claim-status")) == expected_claim_status_rows()
    assert matrix_cells(read("fig-adverse-effects")) == expected_adverse_effect_rows()
    directions = [(r["outcome"], r["direction"]) for r in parsed(read("fig-head-to-head"))]
    assert directions == expected_head_to_head_directions()
    assert same_forest(forest_values(read("fig-forest")), expected_forest_rows())
    listed = {p.stem for p in folder.glob("*.csv")}
    glued = {n for p in toc_files() for n in re.findall(r"```\{glue:figure\} (\S+)", (ROOT / f"{p}.md").read_text())}
    assert listed == glued, "every figure has its CSV, and no CSV is left from a figure that is gone"


def test_the_printed_book_shows_every_figure_as_svg_text_without_site_links(site):
    """The PDF prints the single-page build: figures are vector with their words as text, and the links that only
    work in the site (full size, data, SVG) are left out."""
    import html
    import subprocess
    import unicodedata

    single = ROOT / "_build" / "singlehtml" / "intro.html"
    soup = BeautifulSoup(single.read_text(encoding="utf-8"), "html.parser")
    images = [f.find("img") for f in soup.select("main figure") if f.find("img")]
    assert len(images) >= 10 and all(img["src"].endswith(".svg") for img in images)
    assert not soup.select("main figure a.figure-full, main figure .figure-downloads")
    pdf = site / "_downloads" / "book.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    printed = " ".join(unicodedata.normalize("NFKC", text).split())  # NFKC: the "fl" ligature is "fl" again
    for img in images:
        svg = (single.parent / img["src"]).read_text(encoding="utf-8")
        words = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]{6,})</text>", svg)]
        longest = max(words, key=len) if words else None
        assert longest is None or " ".join(longest.split()) in printed, f"{img['src']}: {longest!r} not in the PDF"


def test_a_figure_opens_full_size_from_the_keyboard(page, server):
    """Tab reaches the figure's link (a real link to the image file, with a visible focus ring), and the file it
    opens is the SVG. (Enter on a focused link is the browser's own; navigating to the SVG document is not waited
    for: its load never settles reliably under Playwright.)"""
    open_page(page, f"{server}/chapters/safety.html")
    link = page.locator("main figure a.figure-full").first
    href = link.get_attribute("href")
    link.focus()
    assert page.evaluate(
        "document.activeElement.tagName === 'A' && document.activeElement.classList.contains('figure-full')"
    )
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    assert page.evaluate("document.activeElement.href").endswith(href.rsplit("/", 1)[1])
    response = page.request.get(page.evaluate("document.activeElement.href"))
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
