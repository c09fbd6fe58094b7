"""Every patch of another project's internals, in one place. Each is applied only to the versions it was written
and tested against (the guard); any other version runs stock, slower but correct.

* pybtex looks its plugins up with ``importlib.metadata.entry_points`` on every formatted citation, and each lookup
  scans every installed distribution (hundreds of lookups per build, seconds). Installed packages do not change
  during a build, so each answer is remembered. Upstream: cache the lookup in ``pybtex.plugin.find_plugin``.
* Sphinx unpickles the whole page that holds a ``{numref}`` target, for every reference, only to read the target's
  number. References are resolved after every page has been read, so each page is unpickled once for all of them.
  Upstream: ``StandardDomain._resolve_numref_xref`` could read the numbers from ``env.toc_fignumbers`` alone.
* sphinxcontrib-bibtex formats each cited entry again for every page's bibliography. The labels are the keys, so an
  entry's formatted text is the same everywhere: :class:`FormatOnce` formats each parsed entry once per build.
  Upstream: sphinxcontrib-bibtex could format each entry once per build for a given style.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version

APPLIED = {"on": False}  # apply() turns the patches on; the bench's stock build never calls it
TESTED = {"pybtex": ("0.24", "0.25", "0.26"), "sphinx": ("7.",), "sphinxcontrib-bibtex": ("2.6", "2.7")}


def tested(package: str) -> bool:
    """The installed ``package`` is a version this module's patch of it was tested against."""
    return version(package).startswith(TESTED[package])


def memoise_pybtex_plugin_lookup() -> None:
    import pybtex.plugin

    lookup = pybtex.plugin.entry_points
    if not tested("pybtex") or getattr(lookup, "relaxbook_memo", False):
        return

    @cache
    def entry_points(**selection):
        return lookup(**selection)

    entry_points.relaxbook_memo = True
    pybtex.plugin.entry_points = entry_points


def memoise_numref_doctrees() -> None:
    from sphinx.domains.std import StandardDomain

    resolve = StandardDomain._resolve_numref_xref
    if not tested("sphinx") or getattr(resolve, "relaxbook_memo", False):
        return
    memos: dict[int, dict] = {}

    def resolve_numref(self, env, *args, **kwargs):
        pickled = getattr(env, "_pickled_doctree_cache", None)
        if pickled is None:
            return resolve(self, env, *args, **kwargs)
        memo = memos.setdefault(id(env), {})
        real = env.get_doctree

        def get_doctree(docname):
            if docname not in pickled:
                return real(docname)
            hit = memo.get(docname)
            if hit is None or hit[0] is not pickled[docname]:  # keyed by the very bytes Sphinx caches
                hit = memo[docname] = (pickled[docname], real(docname))
            return hit[1]

        env.get_doctree = get_doctree
        try:
            return resolve(self, env, *args, **kwargs)
        finally:
            del env.get_doctree

    resolve_numref.relaxbook_memo = True
    StandardDomain._resolve_numref_xref = resolve_numref


class FormatOnce:
    """Mixin for a pybtex formatting style: each parsed entry is formatted once (the memo holds the entry object, so
    an entry parsed again, because the bib file changed, is formatted again). Stock behaviour on untested versions."""

    _formatted: dict = {}

    def format_entry(self, label, entry, bib_data=None):
        if not (APPLIED["on"] and tested("sphinxcontrib-bibtex")):
            return super().format_entry(label, entry, bib_data)
        key = (type(self), label, entry.key, id(entry))
        hit = self._formatted.get(key)
        if hit is None or hit[0] is not entry:
            hit = self._formatted[key] = (entry, super().format_entry(label, entry, bib_data))
        return hit[1]


def apply() -> None:
    APPLIED["on"] = True
    memoise_pybtex_plugin_lookup()
    memoise_numref_doctrees()
