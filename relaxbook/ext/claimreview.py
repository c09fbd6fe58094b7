"""Machine-readable book, data and verdicts: schema.org JSON-LD.

Every page embeds one ``<script type="application/ld+json">`` whose graph holds the book as a ``Book`` (title,
authors and licence from ``CITATION.cff``, version, the build date as ``datePublished``, the site's base URL), the
landing page adds the data package as a ``Dataset`` (from ``data/datapackage.json``: the zip and every CSV as a
``DataDownload``), and each page that lists checked claims (their ``claim-cNN`` anchors) adds one ``ClaimReview`` per
claim. ``_downloads/claims.jsonld`` holds the book, the dataset and every claim. The rating is an ordinal scale,
documented in the Methods chapter:
5 verified, 4 partly verified, 3 not found, 2 unsupported, 1 contradicted (``alternateName`` is the status).
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes

from relaxbook.data.datapkg import GUIDE

RATING = {"verified": 5, "partly verified": 4, "not found": 3, "unsupported": 2, "contradicted": 1}
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


def license_url(spdx: str | None) -> str | None:
    """schema.org wants a licence as a URL: the SPDX licence page of an SPDX id (CITATION.cff uses SPDX ids)."""
    return f"https://spdx.org/licenses/{spdx}" if spdx else None


def cff_person(author: dict) -> dict:
    if "family-names" in author:
        person = {"@type": "Person", "familyName": author["family-names"], "givenName": author.get("given-names")}
        person["name"] = " ".join(filter(None, [person["givenName"], person["familyName"]]))
        return {k: v for k, v in person.items() if v}
    return {"@type": "Organization", "name": author.get("name", "NA")}


def book(meta: dict, build: dict, base_url: str, language: str) -> dict:
    """The book as a schema.org ``Book``, from ``CITATION.cff`` and the build stamp."""
    node = {
        "@type": "Book",
        "@id": base_url,
        "url": base_url,
        "name": meta.get("title"),
        "author": [cff_person(a) for a in meta.get("authors", [])],
        "license": license_url(meta.get("license")),
        "version": str(meta.get("version", "")),
        "inLanguage": language,
        "abstract": " ".join(str(meta.get("abstract", "")).split()) or None,
        "keywords": meta.get("keywords"),
    }
    if build.get("date") not in (None, "unknown"):
        node["datePublished"] = build["date"]
    return {k: v for k, v in node.items() if v}


def dataset(package: dict, meta: dict, base_url: str, zip_path: str, data_dir: str) -> dict:
    """The data package as a schema.org ``Dataset``: the zip and every table's CSV as ``DataDownload``."""
    licenses = package.get("licenses") or [{"path": license_url(meta.get("license"))}]
    files = [
        {
            "@type": "DataDownload",
            "name": res.get("title", res["name"]),
            "description": res.get("description"),
            "encodingFormat": res.get("mediatype", "text/csv"),
            "contentUrl": f"{base_url}{data_dir}/{res['path']}",
        }
        for res in package["resources"]
    ]
    zip_download = {"@type": "DataDownload", "name": "All tables with their schemas (zip)"}
    zip_download |= {"encodingFormat": "application/zip", "contentUrl": base_url + zip_path}
    node = {
        "@type": "Dataset",
        "@id": base_url + zip_path,
        "name": package.get("title") or package.get("name"),
        "description": package.get("description"),
        "version": package.get("version"),
        "license": licenses[0].get("path") or license_url(licenses[0].get("name")),
        "creator": [cff_person(a) for a in meta.get("authors", [])],
        "isPartOf": {"@id": base_url},
        "distribution": [zip_download, *[{k: v for k, v in f.items() if v} for f in files]],
    }
    return {k: v for k, v in node.items() if v}


def _book(app) -> dict:
    from relaxbook.ext.discover import base_url

    return book(app.relaxbook_citation, app.relaxbook_build, base_url(app.config), app.config.language or "en")


def _dataset(app) -> dict:
    from relaxbook.data import paths
    from relaxbook.ext import site
    from relaxbook.ext.discover import base_url

    package = json.loads(paths.PACKAGE.read_text(encoding="utf-8"))
    return dataset(package, app.relaxbook_citation, base_url(app.config), site.ZIP_NAME, site.DATA_DIR)


def _page_context(app, pagename, templatename, context, doctree) -> None:
    from relaxbook.ext.badges import _claims

    inlines = doctree.findall(nodes.inline) if doctree is not None else []
    ids = [i.removeprefix("claim-") for node in inlines for i in node["ids"] if i.startswith("claim-")]
    claims = _claims() if ids else {}
    graph = [_book(app)] + ([_dataset(app)] if pagename == app.config.root_doc else [])
    graph += [claim_review(claims[c], f"{pagename}.html#claim-{c}", _author(app)) for c in dict.fromkeys(ids)]
    text = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False, sort_keys=True)
    context["metatags"] = context.get("metatags", "") + (
        '<script type="application/ld+json">' + text.replace("</", "<\\/") + "</script>\n"
    )


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    from relaxbook.ext.badges import _claims

    graph = [_book(app), _dataset(app)]
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
