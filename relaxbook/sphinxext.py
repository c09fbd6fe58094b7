"""Sphinx extension: validate the data package and the bibliography before any chapter is executed.

A malformed CSV or an unknown ``source_key`` stops the build with one line per problem (file, row, column, rule).
"""
from __future__ import annotations

from sphinx.errors import SphinxError


class InvalidData(SphinxError):
    category = "Invalid data (fix these before the book can build)"


def _validate(app) -> None:
    from relaxbook.datapkg import DataError, validate_package

    try:
        validate_package()
    except DataError as exc:
        raise InvalidData("\n" + str(exc)) from None


def setup(app):
    app.connect("builder-inited", _validate)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
