"""Machine-readable verdicts: schema.org ``ClaimReview`` JSON-LD for every checked claim.

Each page that lists checked claims (their ``claim-cNN`` anchors) embeds one ``ClaimReview`` per claim in a
``<script type="application/ld+json">``; ``_downloads/claims.jsonld`` holds them all, with the book as a ``Book``
and its data package as a ``Dataset``. The rating is an ordinal scale, documented in the Methods chapter:
5 verified, 4 partly verified, 3 not found, 2 unsupported, 1 contradicted (``alternateName`` is the status).
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes

RATING = {"verified": 5, "partly verified": 4, "not found": 3, "unsupported": 2, "contradicted": 1}
GUIDE = "benchchem2025lanperisone"
JSONLD = "_downloads/claims.jsonld"


def _guide() -> dict:
    from relaxbook.data.bib import entries

    entry = entries()[GUIDE]
    authors = [" ".join(p.last_names).strip("{}") or str(p) for p in entry.persons.get("author", [])]
    return {
        "@type": "CreativeWork",
        "name": entry.fields.get("title", "").strip("{}"),
        "url": entry.fields.get("url"),
        "datePublished": entry.fields.get("year"),
        "publisher": {"@type": "Organization", "name": authors[0] if authors else "NA"},
    }


def claim_review(claim: dict, url: str, author: str) -> dict:
    """One ClaimReview: the guide's sentence, the guide as the item reviewed, the status on the ordinal scale."""
    return {
        "@type": "ClaimReview",
        "@id": url,
        "url": url,
        "claimReviewed": claim["source_text"],
        "itemReviewed": {"@type": "Claim", "appearance": _guide()},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": RATING[claim["status"]],
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": claim["status"],
        },
        "reviewBody": claim["evidence_says"],
        "author": {"@type": "Organization", "name": author},
        "datePublished": str(claim["date_checked"]),
    }


def page_of(claim: dict, root_doc: str) -> str:
    return root_doc if claim["chapter"] == "introduction" else f"chapters/{claim['chapter']}"


def _author(app) -> str:
    names = [a.get("name") or a.get("family-names") for a in app.relaxbook_citation.get("authors", [])]
    return ", ".join(n for n in names if n) or "NA"


def _page_context(app, pagename, templatename, context, doctree) -> None:
    if doctree is None:
        return
    from relaxbook.ext.badges import _claims

    ids = [
        i.removeprefix("claim-")
        for node in doctree.findall(nodes.inline)
        for i in node["ids"]
        if i.startswith("claim-")
    ]
    if not ids:
        return
    claims = _claims()
    graph = [claim_review(claims[c], f"{pagename}.html#claim-{c}", _author(app)) for c in dict.fromkeys(ids)]
    text = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False, sort_keys=True)
    context["metatags"] = context.get("metatags", "") + (
        '<script type="application/ld+json">' + text.replace("</", "<\\/") + "</script>\n"
    )


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    from relaxbook.ext.badges import _claims

    meta = app.relaxbook_citation
    graph = [
        {
            "@type": "Book",
            "@id": "index.html",
            "name": meta.get("title"),
            "version": str(meta.get("version")),
            "license": meta.get("license"),
            "author": {"@type": "Organization", "name": _author(app)},
        },
        {
            "@type": "Dataset",
            "@id": "_downloads/data-package.zip",
            "name": f"Data of: {meta.get('title')}",
            "license": meta.get("license"),
            "distribution": {
                "@type": "DataDownload",
                "encodingFormat": "application/zip",
                "contentUrl": "_downloads/data-package.zip",
            },
        },
    ]
    graph += [
        claim_review(c, f"{page_of(c, app.config.root_doc)}.html#claim-{c['claim_id']}", _author(app))
        for c in _claims().values()
    ]
    out = Path(app.outdir) / JSONLD
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False, indent=1, sort_keys=True)
        + "\n",
        encoding="utf-8",
    )


def setup(app):
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
