"""The data layer: where the files are (:mod:`.paths`), the CSV tables validated against ``data/datapackage.json``
(:mod:`.datapkg`), the bibliography (:mod:`.bib`), the claim statuses (:mod:`.status`) and the command-line check
(``python -m relaxbook.data.validate``). It imports nothing from the chapter API or the Sphinx extensions."""
