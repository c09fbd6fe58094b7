"""Mechanisms of action as the checked evidence states them, and each drug's pathway diagram."""

from __future__ import annotations

from relaxbook import figures, render
from relaxbook.data import datapkg


def mechanism_table(name: str = "tbl-mechanisms"):
    mech = datapkg.load("mechanisms")
    render.sourced_table(
        mech[mech["basis"] == "as the checked evidence states it"],
        "verification",
        name,
        "Mechanisms of action as the checked evidence states them",
        {
            "drug_id": "Drug",
            "target": "Target",
            "site": "Site",
            "action": "Action",
            "effect": "Effect",
            "verification": "Status",
            "source_key": "Source",
        },
    )


def pathway_figure(drug_id: str):
    """The pathway of one drug as a diagram image; unverified edges are dashed and labelled."""
    steps = datapkg.load("pathway_steps")
    steps = steps[steps["drug_id"] == drug_id].sort_values("step")
    if steps.empty:
        raise datapkg.DataError(
            [datapkg.Problem("data/pathway_steps.csv", None, "drug_id", "no-rows", f"no pathway steps for '{drug_id}'")]
        )
    nodes, edges = {}, []
    for _, r in steps.iterrows():
        nodes.setdefault(r["from_node"], r["from_kind"])
        nodes.setdefault(r["to_node"], r["to_kind"])
        label = r["relation"] + ("" if r["verification"] == "verified" else f"\n({r['verification']})")
        edges.append((r["from_node"], r["to_node"], label))
    return figures.flow_diagram([(n, n, k) for n, k in nodes.items()], edges)


def key_points():
    """The opening of the mechanisms chapter: how the guide's mechanism statements fared (glued by
    ``claims.chapter_numbers("mechanisms", "mech")``) and what each compared drug is known to do."""
    mech = datapkg.load("mechanisms")
    checked = mech[mech["basis"] == "as the checked evidence states it"].set_index("drug_id")
    points = [render.status_point("mech")]
    for drug in ("lanperisone", "baclofen", "diazepam"):
        r = checked.loc[drug]
        target = (
            "No molecular target reported"
            if _na(r["target"])
            else render.escape(r["target"][:1].upper() + r["target"][1:])
        )
        points.append(
            f"**{drug.capitalize()}.** {target}; {render.escape(r['action'])} ({render.escape(r['site'])}): "
            f"{render.escape(r['effect'])}."
        )
    return render.key_points(points)


def _na(value) -> bool:
    return not isinstance(value, str) or value in ("NA", "")
