"""Discoverability without the network: ``sitemap.xml`` and the OpenGraph/Twitter card settings.

The site's public address is set once, as ``html_baseurl`` in ``_config.yml``; :func:`base_url` reads it for the
sitemap, the JSON-LD (:mod:`.claimreview`) and sphinxext-opengraph (``ogp_site_url`` defaults to it here), which
writes ``og:title``, ``og:url`` and ``og:image`` (``ogp_image``: ``_static/og-image.png``, committed, so nothing is
generated or fetched). ``og:description`` (and ``<meta name="description">``) is given to it per page: the page's
first paragraph of prose (not the notice, the data box or a table), or the book's abstract from ``CITATION.cff`` on
the landing page and on a page without prose. The extension's own choice would be the first text it meets, which is
the data box on the landing page.

``sitemap.xml`` lists every page of the book (the documents of ``_toc.yml``; not the search page or the general
index) at its absolute URL, in a fixed order, without dates. It is made from the build's list of documents, not
from the pages written in this build, so an incremental build that rewrites one page still lists them all
(sphinx-sitemap collects only the pages it sees written, and starts a multiprocessing manager for it).
"""

from __future__ import annotations

import html
from pathlib import Path
from xml.etree import ElementTree

from docutils import nodes

SITEMAP = "sitemap.xml"
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
TWITTER_CARD = '<meta name="twitter:card" content="summary_large_image" />'
DESCRIPTION_LENGTH = 200
SKIP_CLASSES = {"data-downloads", "reference-downloads", "cell"}
SKIP_NODES = (nodes.Admonition, nodes.table, nodes.caption, nodes.citation, nodes.footnote, nodes.literal_block)


def base_url(config) -> str:
    """The published site's address with a trailing slash (``html_baseurl``); empty when not configured."""
    url = (getattr(config, "html_baseurl", "") or "").strip()
    return url if not url or url.endswith("/") else url + "/"


def sitemap_xml(base: str, targets: list[str]) -> bytes:
    """A sitemaps.org ``urlset`` of ``base`` joined with each target (a page's path in the site), sorted."""
    ElementTree.register_namespace("", NS)
    root = ElementTree.Element(f"{{{NS}}}urlset")
    for target in sorted(set(targets)):
        url = ElementTree.SubElement(root, f"{{{NS}}}url")
        ElementTree.SubElement(url, f"{{{NS}}}loc").text = base + target
    ElementTree.indent(root, space=" ")
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def shorten(text: str, length: int = DESCRIPTION_LENGTH) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _skipped(node: nodes.Node) -> bool:
    while node is not None:
        if isinstance(node, SKIP_NODES) or SKIP_CLASSES & set(getattr(node, "get", lambda *_: [])("classes", [])):
            return True
        node = node.parent
    return False


def page_description(doctree: nodes.document) -> str | None:
    """The page's first paragraph of prose, shortened; None when it has none."""
    for para in doctree.findall(nodes.paragraph):
        if not _skipped(para) and para.astext().strip():
            return shorten(para.astext())
    return None


def _page_context(app, pagename, templatename, context, doctree) -> None:
    if doctree is None:
        return
    abstract = shorten(str(getattr(app, "relaxbook_citation", {}).get("abstract", "")))
    text = (None if pagename == app.config.root_doc else page_description(doctree)) or abstract
    if text:
        escaped = html.escape(text, quote=True)
        context["meta"] = {**(context.get("meta") or {}), "og:description": escaped}  # a copy: env's is pickled
        context["metatags"] = context.get("metatags", "") + f'<meta name="description" content="{escaped}" />\n'


def _config_inited(app, config) -> None:
    if hasattr(config, "ogp_site_url") and not config.ogp_site_url:
        config.ogp_site_url = base_url(config)
    if hasattr(config, "ogp_site_name") and config.ogp_site_name is None:
        config.ogp_site_name = config.html_title or config.project
    if hasattr(config, "ogp_custom_meta_tags") and TWITTER_CARD not in config.ogp_custom_meta_tags:
        config.ogp_custom_meta_tags = [*config.ogp_custom_meta_tags, TWITTER_CARD]


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    base = base_url(app.config)
    if not base:
        from sphinx.util import logging

        logging.getLogger(__name__).warning("no html_baseurl in _config.yml: sitemap.xml not written")
        return
    targets = [app.builder.get_target_uri(doc) for doc in app.env.found_docs]
    (Path(app.outdir) / SITEMAP).write_bytes(sitemap_xml(base, targets))


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context, priority=400)  # before sphinxext-opengraph reads context["meta"]
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
