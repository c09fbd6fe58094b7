"""Text from data is shown as text: HTML, Markdown, MyST roles, pipes and maths in a CSV cell appear literally on the
page and inject nothing. Builds one chapter of a scratch copy with a hostile evidence_says cell in data/claims.csv."""

from __future__ import annotations

import csv
import json
import re

import pytest
from bs4 import BeautifulSoup

from conftest import JUPYTER_BOOK, reduced_toc, run
from relaxbook.data.status import claim_number

pytestmark = pytest.mark.build

PAYLOAD = (
    "<script>alert(1)</script> **bold** _it_ a|b {cite}`roussan1985baclofen` {cite:p}`nosuchkey` $x^2$ "
    "[link](https://evil.example) <img src=x onerror=alert(2)> &amp; \\| `code` (label)= :::{note} #7"
)
CLAIM = "c38"  # a safety claim; the safety chapter shows every claim's evidence_says in tbl-claims-safety


def set_note(path, claim, note):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    col = rows[0].index("evidence_says")
    hits = [r for r in rows[1:] if r[0] == claim]
    assert len(hits) == 1, f"test setup: no claim {claim}"
    hits[0][col] = note
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_text_from_data_is_shown_literally_and_injects_nothing(scratch):
    reduced_toc(scratch, "safety")
    set_note(scratch / "data" / "claims.csv", CLAIM, PAYLOAD)
    result = run([*JUPYTER_BOOK, "build", ".", "--all", "-n", "-W", "--keep-going"], cwd=scratch, root=scratch)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    soup = BeautifulSoup(
        (scratch / "_build" / "html" / "chapters" / "safety.html").read_text(encoding="utf-8"), "html.parser"
    )

    # nothing injected anywhere on the page; in the ClaimReview JSON-LD the text stays inside its JSON string
    scripts = [s for s in soup.find_all("script") if s.get("type") != "application/ld+json"]
    assert not [s for s in scripts if "alert(" in (s.string or "") + str(s.get("src"))]
    for ld in soup.find_all("script", type="application/ld+json"):
        assert "</" not in ld.string and json.loads(ld.string)["@graph"]
    assert not soup.find_all(attrs={"onerror": True})
    assert not soup.find_all("img", src="x")
    assert not soup.find_all("a", href=re.compile("evil"))
    assert "nosuchkey" not in " ".join(a.get("href", "") for a in soup.find_all("a"))

    # the row is intact (the pipe did not split a cell) and its note cell shows the payload verbatim
    table = soup.find("table", id="tbl-claims-safety") or soup.find(id="tbl-claims-safety").find("table")
    header = [th.get_text(" ", strip=True) for th in table.find("thead").find_all("th")]
    row = next(
        tr for tr in table.find("tbody").find_all("tr") if tr.find("td").get_text(strip=True) == claim_number(CLAIM)
    )
    cells = row.find_all("td")
    assert len(cells) == len(header), [c.get_text() for c in cells]
    note = cells[header.index("The evidence says")]
    assert " ".join(note.get_text().split()) == " ".join(PAYLOAD.split())
    assert not note.find_all(["strong", "em", "script", "img", "a", "code", "span", "div", "math"]), note


def test_diagram_labels_from_data_are_literal_text():
    """Graphviz would read '<...>' as an HTML-like label and '\\N' as the node name: data must not do either."""
    from relaxbook import figures

    source = figures.flow_graph(
        [("a", "<b>x</b>", "drug"), ("b", "tone \\N down", "effect")], [("a", "b", "<i>blocks</i>")]
    ).source
    assert 'label="<b>x</b>"' in source and 'label="<i>blocks</i>"' in source, source
    assert 'label="tone \\\\N down"' in source, source
    assert "label=<" not in source


def laid_out(nodes, edges) -> tuple[list[str], int]:
    """Labels of the nodes and the number of edges graphviz actually lays out for a diagram."""
    import json

    from relaxbook import figures

    graph = json.loads(figures.flow_graph(nodes, edges).pipe(format="json"))
    return [o["label"] for o in graph.get("objects", [])], len(graph.get("edges", []))


def test_node_names_with_colons_and_quotes_stay_one_node_each():
    """graphviz reads 'a:b' in an edge as node a, port b: a name like 'Period 1: baclofen' must not split."""
    names = ["Period 1: baclofen", 'say "hi"', "a:b:c", "Outcomes: improvement; preference"]
    labels, n_edges = laid_out([(n, n, "step") for n in names], list(zip(names, names[1:], ["", "", ""])))
    assert sorted(labels) == sorted(names) and n_edges == 3


@pytest.mark.parametrize("figure", ["workflow_figure", "source_flow_figure", "pathway_figure"])
def test_every_diagram_lays_out_exactly_the_nodes_and_edges_of_its_data(figure, monkeypatch):
    from relaxbook import figures, mechanisms, studies
    from relaxbook.data import datapkg

    captured = []
    monkeypatch.setattr(figures, "flow_diagram", lambda nodes, edges, rankdir="TB": captured.append((nodes, edges)))
    monkeypatch.setattr(datapkg, "_declared", None)
    if figure == "pathway_figure":
        for drug in dict.fromkeys(datapkg.load("pathway_steps")["drug_id"]):
            mechanisms.pathway_figure(drug)
    else:
        getattr(studies, figure)()
    assert captured
    for nodes, edges in captured:
        labels, n_edges = laid_out(nodes, edges)
        assert sorted(labels) == sorted(str(label) for _, label, _ in nodes)
        assert n_edges == len(edges)
