"""The book's Sphinx extensions, loaded together by ``_config.yml`` (``extra_extensions: [relaxbook.ext]``).

* :mod:`.badges`   -- validate ``data/`` and ``references.bib`` before any chapter runs; the bibliography style;
  the claim badge roles;
* :mod:`.cache`    -- the data-aware execution cache, running stale chapters on the kernel pool of :mod:`.executor`;
* :mod:`.site`     -- the data box, downloads, citation meta tags, build stamp, the ``{cite-this}`` directive;
* :mod:`.figures`  -- each glued figure opens full size on click and links its data (CSV) and image (SVG);
* :mod:`.claimreview` -- schema.org JSON-LD: the Book on every page, the Dataset on the landing page, a ClaimReview
  for every checked claim, and ``claims.jsonld``;
* :mod:`.refexport` -- the bibliography as BibTeX, RIS and CSL-JSON downloads, and ``{reference-downloads}``;
* :mod:`.discover` -- ``sitemap.xml`` and the OpenGraph/Twitter settings, from ``html_baseurl``;
* :mod:`.strict`   -- fail the build on any warning, a chapter-contract breach or a chapter missing from the toc;
* :mod:`.patches`  -- every patch of another project's internals, each behind a version guard.
"""

from __future__ import annotations

from pathlib import Path

EXTENSIONS = [
    "relaxbook.ext.badges",
    "relaxbook.ext.cache",
    "relaxbook.ext.site",
    "relaxbook.ext.figures",
    "relaxbook.ext.claimreview",
    "relaxbook.ext.refexport",
    "relaxbook.ext.discover",
    "relaxbook.ext.strict",
]


class ForeignCheckout(Exception):
    pass


def setup(app):
    import relaxbook
    from relaxbook.data import paths
    from relaxbook.ext import patches

    package = Path(relaxbook.__file__).resolve().parent
    if (Path(app.srcdir) / "relaxbook").is_dir() and package != (Path(app.srcdir) / "relaxbook").resolve():
        raise ForeignCheckout(
            f"this build runs the relaxbook code in {package}, not this checkout's {Path(app.srcdir) / 'relaxbook'}: "
            "the virtual environment was made for another copy of the book. Run `make book` here (it recreates "
            ".venv), or `pip install --no-deps -e .` in it."
        )
    paths.set_root(app.srcdir)  # this process and the kernels it starts read this book's data
    patches.apply()
    for name in EXTENSIONS:
        app.setup_extension(name)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
