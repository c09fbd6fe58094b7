"""Helper package of the evidence book, laid out by role (imports only point down this list):

* the chapter API, one module per chapter domain: :mod:`.book` (``setup`` and glue, called first by every chapter),
  :mod:`.claims`, :mod:`.studies`, :mod:`.certainty`, :mod:`.mechanisms`, :mod:`.safety`, :mod:`.effects`,
  :mod:`.profiles`; with the presentation helpers they share, :mod:`.render` (MyST tables) and :mod:`.figures`;
* :mod:`relaxbook.data`: the data layer (paths, validated tables, bibliography, statuses); imports nothing above it;
* :mod:`relaxbook.ext`: the Sphinx extensions (validation, claim badges, the data-aware cache and its kernel pool,
  site features, strict builds, patches of other projects); no chapter imports them;
* :mod:`relaxbook.tools`: the benchmark.
"""
