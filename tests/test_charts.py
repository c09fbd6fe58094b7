"""What the book's charts draw: each figure function is run on the real data (and on small synthetic data where
today's data cannot exercise a rule) with ``figures.svg`` replaced by a function that keeps the matplotlib figure, and
its artists (texts, colours, positions) are checked. The rows each figure publishes, and its SVG and links, are
checked in tests/test_figures.py."""

from __future__ import annotations

import re

import pytest
from matplotlib.colors import to_hex

from conftest import ROOT, rewrite
from recompute import rows as rows_of


@pytest.fixture
def drawn(monkeypatch):
    """Figure functions return their matplotlib figure instead of an SVG with its rows."""
    from relaxbook import figures

    monkeypatch.setattr(figures, "svg", lambda fig, rows, summary=None: fig)


def texts(fig) -> list[str]:
    """Every text a figure draws (texts, tick labels, legend entries, titles), in document order."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


# --- 1. one status palette -------------------------------------------------------------------------------------------


def css_status_colours() -> dict[str, dict[str, str]]:
    """The light-theme badge colours in _static/claims.css by status (``.claim-partly-verified``: partly verified)."""
    css = (ROOT / "_static" / "claims.css").read_text(encoding="utf-8")
    found = {}
    for line in css.splitlines():
        m = re.match(r"\s*\.claim-([a-z-]+)\s*\{\s*color:\s*(#\w{6});\s*background:\s*(#\w{6});", line)
        if m:
            found[m.group(1).replace("-", " ")] = {"text": m.group(2).lower(), "background": m.group(3).lower()}
    return found


def test_badge_palette_is_the_status_palette():
    from relaxbook.data.status import STATUS_COLOURS, STATUSES

    css = css_status_colours()
    assert set(css) == set(STATUSES) == set(STATUS_COLOURS)
    for status in STATUSES:
        assert css[status] == {k: v.lower() for k, v in STATUS_COLOURS[status].items()}, status


def test_claim_status_chart_uses_the_badge_colours_and_writes_the_icons(drawn):
    from matplotlib.patches import Rectangle

    from relaxbook import claims
    from relaxbook.data.status import ICONS, STATUSES

    css = css_status_colours()
    fig = claims.claim_status_figure()
    ax = fig.axes[0]
    legend = {t.get_text(): h for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)}
    for status in STATUSES:  # every status in the legend with its icon, in the badge's colour
        entry = f"{ICONS[status]} {status}"
        assert entry in legend
        assert to_hex(legend[entry].get_facecolor()) == css[status]["text"]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    colours = {to_hex(b.get_facecolor()) for b in bars}
    assert colours <= {c["text"] for c in css.values()}
    counts = claims.claim_counts()
    on_bars = [t for t in texts(fig) if t[:1] in ICONS.values() and t[1:].isdigit()]
    for status in STATUSES:  # the segments' written counts add up to the status's total, icon by icon
        assert sum(int(t[1:]) for t in on_bars if t[0] == ICONS[status]) == counts.get(status, 0)


# --- 2. drug x warning matrix -----------------------------------------------------------------------------------------


def _ae(*rows):
    """A small adverse_effects frame: rows of (drug, effect, frequency_text, context)."""
    import pandas as pd

    cols = ["drug_id", "effect", "frequency_text", "context"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def _drugs():
    import pandas as pd

    return pd.DataFrame(
        {
            "drug_id": ["tolperisone", "baclofen", "diazepam", "lanperisone"],
            "role_in_book": ["relative", "compared drug", "compared drug", "compared drug"],
        }
    )


def test_matrix_cells_say_what_the_source_says_on_synthetic_rows():
    from relaxbook.safety import OTHER, adverse_effect_matrix

    ae = _ae(
        ("baclofen", "drowsiness", "10 to 63%", "US label (oral)"),
        ("baclofen", "sleepiness", "NA", "retrospective study"),
        ("diazepam", "drowsiness", "5%", "US boxed warning"),
        ("diazepam", "liver injury", "NA", "case report"),
        ("tolperisone", "hallucinations on abrupt withdrawal", "NA", "label warning"),
        ("lanperisone", "no human adverse-effect data found", "NA", "NA"),
    )
    rows, columns, cells, no_data = adverse_effect_matrix(ae, _drugs())
    assert columns == ["baclofen", "diazepam", "lanperisone", "tolperisone"]  # compared drugs first, in data order
    assert cells[("Drowsiness, sleepiness", "baclofen")] == ("frequency", "10 to 63%")  # frequency beats "reported"
    assert cells[("Drowsiness, sleepiness", "diazepam")][0] == "boxed"  # a boxed warning is marked as such
    assert cells[("Withdrawal reactions on stopping abruptly", "tolperisone")] == ("warning", "warning")
    assert cells[(OTHER, "diazepam")] == ("reported", "reported")  # an effect no row names is kept, under Other
    assert OTHER in rows and rows[-1] == OTHER
    assert "Headache" not in rows  # a row no drug has a statement for is left out
    assert no_data == ["lanperisone"]
    assert not any(d == "lanperisone" for _, d in cells)
    assert ("Drowsiness, sleepiness", "tolperisone") not in cells  # not stated stays empty, never "0" or "reported"


def test_a_negative_finding_is_shown_as_not_seen():
    from relaxbook.safety import adverse_effect_matrix

    ae = _ae(("tolperisone", "no sedation on psychomotor tests", "NA", "randomised trial"))
    _, _, cells, no_data = adverse_effect_matrix(ae, _drugs())
    assert cells == {("Drowsiness, sleepiness", "tolperisone"): ("not seen", "not seen")}
    assert no_data == []


def test_adverse_effects_figure_draws_every_statement_of_the_real_data(drawn):
    from relaxbook import safety
    from relaxbook.data import datapkg

    ae, drugs = datapkg.load("adverse_effects"), datapkg.load("drugs")
    rows, columns, cells, no_data = safety.adverse_effect_matrix(ae, drugs)
    fig = safety.adverse_effects_figure()
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == columns
    assert [" ".join(t.get_text().split()) for t in ax.get_yticklabels()] == rows
    at = {(round(t.get_position()[0] - 0.5), round(t.get_position()[1] - 0.5)): t.get_text() for t in ax.texts}
    for (row, drug), (_, text) in cells.items():
        assert at[(columns.index(drug), rows.index(row))] == text
    for i, _row in enumerate(rows):  # every other cell: not stated, or the column's "no data" note
        for j, drug in enumerate(columns):
            if (rows[i], drug) not in cells and drug not in no_data:
                assert at[(j, i)] == safety.NOT_STATED
    assert texts(fig).count("no human data found") == len(no_data)
    for _, r in ae.iterrows():  # every statement reaches its drug's column (or its no-data note)
        if r["drug_id"] in no_data:
            continue
        assert any(d == r["drug_id"] for (_, d) in cells), r["effect"]
        if "boxed warning" in str(r["context"]).lower():
            assert any(k == "boxed" for (_, d), (k, _) in cells.items() if d == r["drug_id"])
        elif isinstance(r["frequency_text"], str) and r["frequency_text"] not in ("", "NA"):
            assert any(t.startswith(r["frequency_text"].split(" (")[0]) for t in texts(fig))
    compared = drugs.loc[drugs["role_in_book"] == "compared drug", "drug_id"].tolist()
    assert columns[: len(compared)] == compared


# --- 3. risk of bias ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "short"),
    [
        ("Roussan et al. 1985 (as the guide names it)", "Roussan 1985"),
        ("Cabitza and Randelli 2008", "Cabitza 2008"),
        ("Garg and Yadav (year not shown)", "Garg, year NA"),
        ("Otero-Romero et al. 2016 (review and consensus)", "Otero-Romero 2016"),
        ("van Tulder et al. 2003 (Cochrane review)", "van Tulder 2003"),
        ("Baclofen vs diazepam trial, 1974 (title only)", "Baclofen vs diazepam trial 1974"),
        ("Eperisone vs baclofen trial, Adv Ther 2009 (authors not shown)", "Eperisone vs baclofen trial 2009"),
    ],
)
def test_study_labels_read_first_author_year(label, short):
    from relaxbook.studies import short_label

    assert short_label(label) == short


def test_study_labels_stay_unique():
    from relaxbook.studies import short_labels

    labels = ["Rossi et al. 2012", "Rossi et al. 2012 (extension)", "Rao et al. 2012"]
    assert short_labels(labels) == ["Rossi 2012a", "Rossi 2012b", "Rao 2012"]


def test_rob_domains_are_named_in_words():
    from relaxbook.studies import rob_domain_name

    assert rob_domain_name("D1 randomisation process") == "Randomisation process"
    assert rob_domain_name("D5 selection of the reported result") == "Selection of the reported result"
    assert rob_domain_name("overall") == "Overall"


def test_rob_figure_writes_each_judgement_in_its_cell(drawn):
    from relaxbook import studies
    from relaxbook.data import datapkg

    rob = datapkg.load("risk_of_bias")
    labels = datapkg.load("studies").set_index("study_id")["label"]
    fig = studies.rob_figure()
    ax = fig.axes[0]
    heads = [" ".join(t.get_text().split()) for t in ax.get_xticklabels()]
    assert heads == [studies.rob_domain_name(d) for d in dict.fromkeys(rob["domain"])]
    assert not any(re.match(r"D\d", h) for h in heads)  # words, not codes
    rows = [" ".join(t.get_text().split()) for t in ax.get_yticklabels()]
    ids = list(dict.fromkeys(rob["study_id"]))
    assert rows == studies.short_labels(labels[s] for s in ids)
    assert not set(rows) & set(ids)  # no internal ids reach the reader
    assert len(set(rows)) == len(rows)
    at = {(round(t.get_position()[0] - 0.5), round(t.get_position()[1] - 0.5)): t.get_text() for t in ax.texts}
    domains = list(dict.fromkeys(rob["domain"]))
    for row in rob.drop_duplicates(["study_id", "domain"]).itertuples(index=False):
        written = " ".join(at[(domains.index(row.domain), ids.index(row.study_id))].split())
        assert written == row.judgement


# --- 4. baclofen vs diazepam ------------------------------------------------------------------------------------------


def test_head_to_head_figure_marks_each_result_in_its_direction_column(drawn):
    from matplotlib.lines import Line2D

    from relaxbook import effects

    h = effects.head_to_head()
    studies = {s["study_id"]: s for s in rows_of("studies")}
    pair = [
        sid
        for sid, s in studies.items()
        if s["comparison"] in ("baclofen vs diazepam", "diazepam vs baclofen") and s["inclusion"] == "included"
    ]
    assert sorted(h["study_id"].unique()) == sorted(pair)
    findings = [f for f in rows_of("findings") if f["study_id"] in pair]
    reported = h[h["outcome"] != "no result in the records checked"]
    assert sorted(reported["outcome"]) == sorted(f["outcome"] for f in findings)
    for f in findings:  # the direction as findings.csv says it, NA kept as NA
        row = reported[(reported["study_id"] == f["study_id"]) & (reported["outcome"] == f["outcome"])].iloc[0]
        want = {"NA": "NA", "neither": "no difference"}.get(f["favours"], f"favours {f['favours']}")
        assert row["direction"] == want
    for sid in set(pair) - {f["study_id"] for f in findings}:  # a trial with no result is shown, as NA
        assert h.loc[h["study_id"] == sid, "direction"].tolist() == ["NA"]

    fig = effects.head_to_head_figure()
    ax = fig.axes[0]
    heads = {" ".join(t.get_text().split()): t.get_position()[0] for t in ax.texts if t.get_position()[1] < 0}
    big = sorted((m.get_ydata()[0], m.get_xdata()[0]) for m in ax.findobj(Line2D) if m.get_markersize() > 10)
    shown = [d for d in h["direction"] if d != "NA"]
    assert len(big) == len(shown)
    marks = [x for _, x in big]
    assert [heads[d] for d in shown] == marks  # rows in order, each dot under its direction's heading
    na = [t for t in ax.texts if t.get_text() == "NA" and t.get_position()[0] == heads["not reported"]]
    assert len(na) == (h["direction"] == "NA").sum()
    written = texts(fig)
    flat = {" ".join(t.split()) for t in written}
    for size in h["size"]:  # the size as reported, line-wrapped for a narrow screen
        assert " ".join(size.split()) in flat
    assert not set(pair) & {w for t in written for w in t.split()}  # no study ids reach the reader


def test_head_to_head_gives_an_effect_size_with_ci_when_the_data_allow_and_orients_it(data):
    import math

    from relaxbook import effects

    def with_sd(rows):
        for r in rows:
            if r["stat_id"] in ("s001", "s002"):
                r["dispersion"], r["dispersion_type"] = "0.5", "SD"
        return rows

    rewrite(data / "outcome_stats.csv", with_sd)
    md = 1.43 - 0.87
    half = 1.959964 * math.sqrt(0.5**2 / 30 + 0.5**2 / 30)
    tone = effects.head_to_head().query("study_id == 'thiyagarajan2024'").iloc[0]
    assert tone["with_ci"]
    assert f"hip flexors MD {md:.2f} ({md - half:.2f} to {md + half:.2f})" in tone["size"]
    assert "hip adductors 1.3 vs 0.87 (no CI: no dispersion reported)" in tone["size"]  # the others keep theirs

    def reverse(rows):  # the same trial, recorded as "diazepam vs baclofen": arm a is then diazepam
        for r in rows:
            if r["study_id"] == "thiyagarajan2024":
                r["comparison"] = "diazepam vs baclofen"
        return rows

    rewrite(data / "studies.csv", reverse)
    from relaxbook.data import datapkg

    datapkg._loaded.clear()
    tone = effects.head_to_head().query("study_id == 'thiyagarajan2024'").iloc[0]
    assert f"hip flexors MD {-md:.2f} ({-md - half:.2f} to {-md + half:.2f})" in tone["size"]  # baclofen first
    assert "hip adductors 0.87 vs 1.3" in tone["size"]


# --- 5. source flow, timeline, doses, structures ----------------------------------------------------------------------


def _adds_up(boxes, splits, merges):
    for parent, children in splits:
        assert children, parent
        assert boxes[parent][1] == sum(boxes[c][1] for c in children), (parent, children)
    for whole, parts in merges:
        assert boxes[whole][1] == sum(boxes[p][1] for p in parts), (whole, parts)


def test_source_flow_adds_up_on_the_real_data():
    from relaxbook import studies

    boxes, splits, merges, links = studies.source_flow()
    _adds_up(boxes, splits, merges)
    assert {p for p, _ in splits} == {"refs", "works", "considered"}
    for src, dst, label, *_layout in links:  # a link that is no sum says so in words
        assert label and src in boxes and dst in boxes


def test_source_flow_adds_up_when_a_reference_has_a_status_today_s_data_lack(data):
    from relaxbook import studies

    def contradicted(rows):
        first = next(r for r in rows if r["identifies_work"] == "yes" and r["source_key"] != rows[0]["source_key"])
        for r in rows:
            if r["source_key"] == first["source_key"]:
                r["status"] = "contradicted"
        return rows

    rewrite(data / "guide_references.csv", contradicted)
    boxes, splits, merges, _ = studies.source_flow()
    _adds_up(boxes, splits, merges)
    assert boxes["status contradicted"][1] >= 1


def test_source_flow_figure_draws_every_box_and_every_split(monkeypatch):
    from relaxbook import figures, studies

    drawn = {}
    monkeypatch.setattr(figures, "flow_diagram", lambda nodes, edges, *a, **k: drawn.update(nodes=nodes, edges=edges))
    studies.source_flow_figure()
    boxes, splits, merges, links = studies.source_flow()
    labels = {key: text for key, text, _ in drawn["nodes"]}
    for key, (label, n, _) in boxes.items():
        assert labels[key].startswith(f"{label}\nn = {n}")
    edges = {(a, b) for a, b, *_ in drawn["edges"]}
    assert {(p, c) for p, cs in splits for c in cs} <= edges
    assert {(p, w) for w, ps in merges for p in ps} <= edges


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_timeline_labels_every_event_and_no_two_labels_overlap(drawn):
    from relaxbook import profiles

    events = [e for e in rows_of("regulatory_events") if e["year"] != "NA"]
    fig = profiles.timeline_figure()
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if ": " in t.get_text()]
    assert len(labels) == len(events)
    for e in events:  # each event's date and kind are written, and its drug's band holds it
        assert any(t.get_text().startswith(f"{e['date_text']}: {e['event_type']}") for t in labels), e
    boxes = [t.get_window_extent() for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b)
    frame = fig.bbox
    for b in boxes:  # inside the figure: nothing cut off on either side
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1


def test_timeline_labels_stay_apart_when_events_crowd_one_year(drawn, data):
    from relaxbook import profiles

    def crowd(rows):
        extra = dict(rows[0], event_id="x1", drug_id="baclofen", date_text="2002-05", year="2002", precision="month")
        return rows + [extra, dict(extra, event_id="x2", date_text="2002-06")]

    rewrite(data / "regulatory_events.csv", crowd)
    fig = profiles.timeline_figure()
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in fig.axes[0].texts if ": " in t.get_text()]
    assert len(boxes) == len([e for e in rows_of("regulatory_events") if e["year"] != "NA"]) + 2
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_dose_chart_labels_its_marks_directly_and_needs_no_legend(drawn):
    from relaxbook import profiles

    fig = profiles.dose_figure()
    ax = fig.axes[0]
    assert ax.get_legend() is None
    written = [t.get_text() for t in ax.texts]
    groups = profiles.dose_groups()
    assert len(ax.collections) == len(groups)  # one mark (a pair of end points) per drug and kind of dose
    for _, g in groups.iterrows():
        assert any(t.endswith(f"mg: {g['flag']}") and t.startswith(f"{g['arms']} arm") for t in written), g
    lab = profiles.label_ranges()
    for _, r in lab[lab["usual_low"].notna()].iterrows():
        assert any(t.startswith("label: usual ") and f"{r['usual_high']:g}" in t for t in written)
    assert sum(t == "no labelled dose (NA)" for t in written) == int(lab["usual_low"].isna().sum())


def test_structures_are_drawn_two_to_a_row_and_large():
    import re

    from relaxbook import profiles

    svg = profiles.structure_figure().svg
    width, height = (float(re.search(rf"<svg[^>]*\b{a}=['\"]([\d.]+)", svg).group(1)) for a in ("width", "height"))
    n = len(profiles.identity())
    per_row = 2
    cell_w, cell_h = width / per_row, height / -(-n // per_row)
    assert cell_w >= 400 and cell_h >= 300  # each drawing at least 400 px wide: ~160 px on a 390 px screen
    sizes = [float(x) for x in re.findall(r"font-size:\s*([\d.]+)px", svg)]
    assert sizes and max(sizes) >= 24  # the legend (name and formula) in a font that stays readable on a phone
