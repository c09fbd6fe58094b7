"""The one error type of the data layer: every problem found, each naming file, row, column and rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        unit = "row" if self.file.endswith(".csv") else "line"
        where = self.file + (f", {unit} {self.row}" if self.row is not None else "")
        where += f", column '{self.column}'" if self.column else ""
        return _one_line(f"{where}: {self.message} [{self.rule}]")


def _one_line(text: str) -> str:
    """Problems are printed one per line: control characters from the data are shown escaped, never as breaks."""
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


class DataError(Exception):
    """Raised with every :class:`Problem` found; ``str()`` gives one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
