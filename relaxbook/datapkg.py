"""Load and validate the CSV tables described by ``data/datapackage.json``.

The descriptor follows the Frictionless Table Schema (types, ``constraints.required``, ``enum``, ``minimum``,
``maximum``, ``pattern``, ``primaryKey``, ``foreignKeys``). One project-specific field property is added:
``"bibkey": true`` marks a column whose values must be keys of ``references.bib``.

Every problem is reported as one line naming the file, the row (line number in the file, header = 1), the column
and the rule broken; :class:`DataError` carries all of them, so a maintainer sees every error at once.
``NA`` is the only spelling of "unknown"; an empty cell is an error, never a silent zero.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from relaxbook import paths

NA = "NA"


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


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def descriptor() -> dict:
    try:
        return json.loads(paths.PACKAGE.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError([Problem(_rel(paths.PACKAGE), None, None, "descriptor", f"cannot be read: {exc}")]) from None


def resource(name: str, package: dict | None = None) -> dict:
    package = package or descriptor()
    for res in package["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(r["name"] for r in package["resources"])
    raise DataError([Problem(_rel(paths.PACKAGE), None, None, "resource",
                             f"no table named '{name}' (known: {known})")])


# --- reading -------------------------------------------------------------------------------------------------

def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[Problem]]:
    """Header and rows of a CSV as strings, with encoding-level problems."""
    f = _rel(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [], [Problem(f, None, None, "file", f"cannot be read: {exc.strerror}")]
    if raw.startswith(b"\xef\xbb\xbf"):
        # Rejected, not silently stripped: other readers of the published CSVs (spreadsheets, R, pandas without
        # encoding="utf-8-sig") would glue the BOM to the first column name. CONTRIBUTING.md documents this.
        header = next(csv.reader(io.StringIO(raw[3:].decode("utf-8", "replace"))), [None])
        return [], [], [Problem(f, 1, header[0] if header else None, "encoding",
                                "starts with a UTF-8 byte-order mark (BOM); save as UTF-8 without BOM")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = list(csv.reader(io.StringIO(raw[: exc.start].decode("utf-8"), newline="")))
        row = len(before) or 1
        header = before[0] if before else []
        cell = len(before[-1]) - 1 if before else 0
        column = header[cell] if 0 <= cell < len(header) else None
        return [], [], [Problem(f, row, column, "encoding",
                                f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8")]
    rows = list(csv.reader(io.StringIO(text, newline="")))  # CRLF and LF are both accepted
    if not rows or not any(cell.strip() for cell in rows[0]):
        return [], [], [Problem(f, 1, None, "empty", "is empty: expected a header row and data rows")]
    return rows[0], rows[1:], []


def _convert(value: str, field: dict):
    """Return (python value, error message or None). ``NA`` becomes None."""
    if value == NA:
        return None, None
    kind = field.get("type", "string")
    try:
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                raise ValueError
            return int(value), None
        if kind == "number":
            if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", value):
                raise ValueError
            return float(value), None
        if kind == "boolean":
            if value not in ("true", "false"):
                raise ValueError
            return value == "true", None
        if kind == "date":
            return date.fromisoformat(value), None
        if kind == "year":
            if not re.fullmatch(r"\d{4}", value):
                raise ValueError
            return int(value), None
    except ValueError:
        article = "an" if kind[0] in "aeiou" else "a"
        return None, f"'{value}' is not {article} {kind}" + (" (YYYY-MM-DD)" if kind == "date" else "")
    if value == "":
        return None, "is empty; write NA for unknown"
    return value, None


def check_table(res: dict, bib_keys: set[str] | None = None) -> tuple[list[dict], list[Problem]]:
    """Validate one table; return its typed rows (dicts) and the problems found."""
    path = paths.DATA / res["path"]
    f = _rel(path)
    header, rows, problems = _read_rows(path)
    if problems:
        return [], problems
    fields = res["schema"]["fields"]
    names = [fd["name"] for fd in fields]
    for col in names:
        if col not in header:
            problems.append(Problem(f, 1, col, "missing-column", "required column is missing from the header"))
    for col in header:
        if col not in names:
            problems.append(Problem(f, 1, col, "extra-column", "column is not described in data/datapackage.json"))
    if len(set(header)) != len(header):
        problems.append(Problem(f, 1, None, "duplicate-column", "header repeats a column name"))
    if problems:
        return [], problems
    if not rows:
        problems.append(Problem(f, 2, None, "no-rows", "has a header but no data rows"))
    typed: list[dict] = []
    pk = res["schema"].get("primaryKey", [])
    pk = [pk] if isinstance(pk, str) else pk
    seen: dict[tuple, int] = {}
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            problems.append(Problem(f, i, None, "row-length", f"has {len(row)} cells, header has {len(header)}"))
            continue
        cells = dict(zip(header, row))
        out = {}
        for fd in fields:
            col, value = fd["name"], cells[fd["name"]]
            cons = fd.get("constraints", {})
            if value.strip() == "":
                problems.append(Problem(f, i, col, "blank", "is empty; write NA for unknown"))
                continue
            conv, err = _convert(value, fd)
            if err:
                problems.append(Problem(f, i, col, "type", err))
                continue
            if conv is None and value == NA and cons.get("required"):
                problems.append(Problem(f, i, col, "required", "is NA but this column is required"))
            if conv is not None:
                if "enum" in cons and conv not in cons["enum"]:
                    problems.append(Problem(f, i, col, "enum", f"'{value}' is not one of: {', '.join(map(str, cons['enum']))}"))
                if "minimum" in cons and conv < cons["minimum"]:
                    problems.append(Problem(f, i, col, "minimum", f"{value} is below the minimum {cons['minimum']}"))
                if "maximum" in cons and conv > cons["maximum"]:
                    problems.append(Problem(f, i, col, "maximum", f"{value} is above the maximum {cons['maximum']}"))
                if "pattern" in cons and not re.fullmatch(cons["pattern"], str(conv)):
                    problems.append(Problem(f, i, col, "pattern", f"'{value}' does not match {cons['pattern']}"))
                if fd.get("bibkey") and bib_keys is not None:
                    for key in str(conv).split(";"):
                        if key.strip() not in bib_keys:
                            problems.append(Problem(f, i, col, "bibkey", f"'{key.strip()}' is not a key in references.bib"))
            out[col] = conv
        if pk:
            key = tuple(out.get(c) for c in pk)
            if key in seen:
                problems.append(Problem(f, i, ",".join(pk), "primary-key",
                                        f"duplicate key {key if len(key) > 1 else key[0]!r} (first on row {seen[key]})"))
            else:
                seen[key] = i
        typed.append(out)
    return typed, problems


def validate_package(bib_keys: set[str] | None = None) -> dict[str, list[dict]]:
    """Validate every table, the foreign keys between them, every bib-key column and the cross-table rules
    (:func:`check_retracted_support`).

    Returns the typed rows per table; raises :class:`DataError` listing every problem, including a malformed
    ``references.bib`` (then bib-key columns are not checked, as every key would look unknown).
    """
    problems: list[Problem] = []
    if bib_keys is None:
        from relaxbook.bib import keys
        try:
            bib_keys = keys()
        except DataError as exc:
            problems += [Problem(p.file, p.row, p.column, p.rule, re.sub(r"^syntax error in line \d+: ", "syntax error: ",
                                                                        p.message)) for p in exc.problems]
    package = descriptor()
    tables: dict[str, list[dict]] = {}
    broken: set[str] = set()  # tables that could not be read at all: no follow-on key errors about them
    for res in package["resources"]:
        rows, probs = check_table(res, bib_keys)
        tables[res["name"]] = rows
        problems += probs
        if probs and not rows:
            broken.add(res["name"])
    for res in package["resources"]:
        f = _rel(paths.DATA / res["path"])
        for fk in res["schema"].get("foreignKeys", []):
            cols = [fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"]
            ref = fk["reference"]
            target = ref.get("resource") or res["name"]
            if res["name"] in broken or target in broken:
                continue
            tcols = [ref["fields"]] if isinstance(ref["fields"], str) else ref["fields"]
            known = {tuple(r.get(c) for c in tcols) for r in tables.get(target, [])}
            for i, row in enumerate(tables[res["name"]], start=2):
                key = tuple(row.get(c) for c in cols)
                if all(v is None for v in key):
                    continue
                if key not in known:
                    problems.append(Problem(f, i, ",".join(cols), "foreign-key",
                                            f"{key[0] if len(key) == 1 else key!r} has no match in {target}.{','.join(tcols)}"))
    problems += check_ranges(tables, package)
    if not broken & {"studies", "claims", "conclusion_evidence"}:
        problems += check_retracted_support(tables, package)
    if problems:
        raise DataError(problems)
    return tables


def check_ranges(tables: dict[str, list[dict]], package: dict) -> list[Problem]:
    """In every row, a ``*_min*`` column is not above its ``*_max*`` twin (e.g. ``dose_min_mg_per_day``)."""
    problems = []
    for res in package["resources"]:
        names = [fd["name"] for fd in res["schema"]["fields"]]
        pairs = [(n, n.replace("_min", "_max", 1)) for n in names if "_min" in n and n.replace("_min", "_max", 1) in names]
        for lo, hi in pairs:
            for i, row in enumerate(tables.get(res["name"], []), start=2):
                a, b = row.get(lo), row.get(hi)
                if a is not None and b is not None and a > b:
                    problems.append(Problem(_rel(paths.DATA / res["path"]), i, lo, "min-max",
                                            f"{a:g} is above {hi} = {b:g}"))
    return problems


SUPPORTING_STATUSES = ("verified", "partly verified")


def retracted_keys(tables: dict[str, list[dict]]) -> dict[str, str]:
    """Bib keys of retracted work -> study_id: studies whose ``exclusion_reason`` starts with 'retracted'."""
    out = {}
    for study in tables.get("studies", []):
        if str(study.get("exclusion_reason") or "").startswith("retracted"):
            for key in str(study.get("source_key") or "").split(";"):
                out[key.strip()] = study["study_id"]
    return out


def check_retracted_support(tables: dict[str, list[dict]], package: dict | None = None) -> list[Problem]:
    """Retracted work never supports anything.

    * ``claims.csv``: a claim with status ``verified`` or ``partly verified`` must not list a retracted work in
      ``checked_against`` (no exceptions: an accurate description of a retracted paper is 'unsupported').
    * ``conclusion_evidence.csv``: a retracted study's ``role`` must not start with 'supports'.
    """
    package = package or descriptor()
    files = {r["name"]: _rel(paths.DATA / r["path"]) for r in package["resources"]}
    retracted = retracted_keys(tables)
    problems: list[Problem] = []
    for i, claim in enumerate(tables.get("claims", []), start=2):
        keys = [k.strip() for k in str(claim.get("checked_against") or "").split(";")]
        bad = [k for k in keys if k in retracted]
        if not bad or claim.get("status") not in SUPPORTING_STATUSES:
            continue
        problems.append(Problem(files.get("claims", "data/claims.csv"), i, "checked_against", "retracted-support",
                                f"claim {claim.get('claim_id')} is '{claim.get('status')}' but rests on retracted work "
                                f"'{bad[0]}' (study {retracted[bad[0]]}); mark it contradicted or check it against "
                                "another source"))
    studies = {s.get("study_id"): s for s in tables.get("studies", [])}
    retracted_studies = set(retracted.values())
    for i, link in enumerate(tables.get("conclusion_evidence", []), start=2):
        if link.get("study_id") in retracted_studies and str(link.get("role") or "").startswith("supports"):
            problems.append(Problem(files.get("conclusion_evidence", "data/conclusion_evidence.csv"), i, "role",
                                    "retracted-support",
                                    f"retracted study {link.get('study_id')} "
                                    f"({studies[link['study_id']].get('source_key')}) cannot support claim "
                                    f"{link.get('claim_id')}"))
    return problems


# --- what a chapter may read: declared tables and views ------------------------------------------------------

_VIEW = re.compile(r"^(?P<table>\w+)(?:\[(?P<columns>[^\]]*)\])?(?:\s+where\s+(?P<key>\w+)\s+in\s+(?P<other>\w+))?$")
_SETUP_CALL = re.compile(r"\bbook\.setup\(([^)]*)\)")


@dataclass(frozen=True)
class View:
    """What a chapter sees of one table: the whole table, or some of its columns (``studies[study_id,label]``),
    optionally only the rows whose ``key`` occurs in table ``other``'s column of that name
    (``studies[study_id,label] where study_id in outcome_stats``). The chapter is re-executed only when what it
    sees changes, and it cannot see more: :func:`load` returns exactly the view."""
    table: str
    columns: tuple[str, ...] | None = None
    key: str | None = None
    other: str | None = None

    def __str__(self) -> str:
        cols = f"[{','.join(self.columns)}]" if self.columns is not None else ""
        return self.table + cols + (f" where {self.key} in {self.other}" if self.key else "")


def parse_view(spec: str, package: dict | None = None) -> View:
    """The :class:`View` a ``book.setup`` argument declares, checked against the schemas; :class:`DataError`
    naming the table file and column when it asks for a table, column or key that does not exist."""
    match = _VIEW.match(spec.strip())
    if not match:
        raise DataError([Problem(_rel(paths.PACKAGE), None, None, "view",
                                 f"book.setup('{spec}'): expected 'table', 'table[col,...]' or "
                                 "'table[col,...] where key in other_table'")])
    package = package or descriptor()
    res = resource(match["table"], package)
    fields = {fd["name"]: fd for fd in res["schema"]["fields"]}
    where = _rel(paths.DATA / res["path"])
    columns = None
    if match["columns"] is not None:
        columns = tuple(c.strip() for c in match["columns"].split(",") if c.strip())
        for col in columns:
            if col not in fields:
                raise DataError([Problem(where, None, col, "view", f"book.setup('{spec}'): {match['table']} has no "
                                         f"column '{col}' (columns: {', '.join(fields)})")])
    if match["key"]:
        other = resource(match["other"], package)
        other_fields = {fd["name"]: fd for fd in other["schema"]["fields"]}
        for table, flds, file in ((match["table"], fields, where),
                                  (match["other"], other_fields, _rel(paths.DATA / other["path"]))):
            if match["key"] not in flds:
                raise DataError([Problem(file, None, match["key"], "view",
                                         f"book.setup('{spec}'): {table} has no column '{match['key']}'")])
            if flds[match["key"]].get("type", "string") != "string":
                raise DataError([Problem(file, None, match["key"], "view",
                                         f"book.setup('{spec}'): rows can be chosen by a text column only")])
    return View(match["table"], columns, match["key"], match["other"])


CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)
CELL_OPTION = re.compile(r"^:[\w-]+:.*\n", re.M)


def page_code(text: str) -> str:
    """The code cells of a MyST text notebook, without their ``:option:`` lines."""
    return "\n".join(CELL_OPTION.sub("", body) for body in CODE_CELL.findall(text))


def declared_specs(text: str) -> list[str] | None:
    """The arguments of a page's ``book.setup(...)`` call(s), read from its code cells only (the prose may show
    such a call); None when the page has no such call."""
    return declared_views(page_code(text) if CODE_CELL.search(text) else text)


def declared_tables(text: str) -> list[str] | None:
    """Table names of a page's ``book.setup(...)`` call(s), views included; None when the page has no such call."""
    specs = declared_specs(text)
    return None if specs is None else [spec_table(spec) for spec in specs]


def spec_table(spec: str) -> str:
    """The table a ``book.setup`` argument names: ``studies`` of ``studies[label] where ...``."""
    return re.split(r"[\[\s]", spec.strip(), maxsplit=1)[0]


def declared_views(source: str) -> list[str] | None:
    """The arguments of the ``book.setup(...)`` call(s) in a page's source, unparsed (None: no call). They must be
    string literals: anything else raises ValueError, so the declaration can be read without running the page."""
    import ast

    calls = _SETUP_CALL.findall(source)
    if not calls:
        return None
    specs: list[str] = []
    for args in calls:
        for arg in ast.parse(f"f({args})", mode="eval").body.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise ValueError(f"book.setup(...) takes table names or views as string literals, got "
                                 f"{ast.unparse(arg)}")
            specs.append(arg.value)
    return specs


def view_rows(view: View) -> tuple[list[str], list[list[str]]]:
    """The header and rows of ``view`` as the CSV's text (no pandas), for hashing what a chapter sees. A row is
    kept when its key's text occurs in the other table: at least every row :func:`load` keeps."""
    res = resource(view.table)
    header, rows, _ = _read_rows(paths.DATA / res["path"])
    if view.key:
        other_header, other_rows, _ = _read_rows(paths.DATA / resource(view.other)["path"])
        at = other_header.index(view.key) if view.key in other_header else None
        keys = {r[at] for r in other_rows if at is not None and at < len(r)}
        col = header.index(view.key) if view.key in header else None
        rows = [r for r in rows if col is not None and col < len(r) and r[col] in keys]
    if view.columns is not None:
        at = [header.index(c) if c in header else None for c in view.columns]
        header = list(view.columns)
        rows = [[r[i] if i is not None and i < len(r) else None for i in at] for r in rows]
    return header, rows


def view_digest(view: View) -> str:
    """A hash of what a chapter sees of a table through ``view`` (the cache's input hash, a kept figure's record)."""
    import hashlib

    return hashlib.sha256(json.dumps(view_rows(view)).encode()).hexdigest()


_declared: dict[str, View] | None = None


def declare(specs) -> None:
    """Declare the tables (or views of them) a chapter reads (called by ``book.setup``). Loading any other table
    then fails and a view's table loads as the view, so the declaration in each chapter's first cell is a
    complete, checked list of its data dependencies."""
    global _declared
    package = descriptor()
    views = [parse_view(spec, package) for spec in specs]
    _declared = {v.table: v for v in views}


_loaded: dict[tuple, object] = {}  # validated tables, keyed by everything their content depends on
_traces: list[list] = []  # open traces (figures.kept): what each load() returned, as (table, view, record)


def read_record(name: str, view: str, content: str | None = None) -> str:
    """A hash of what :func:`load` returns for table ``name`` in a chapter that declared ``view`` of it (its text,
    ``str(View)``); "other view" when this chapter declared it otherwise. Reads the CSV text, no pandas.
    ``content``: the file's sha256, when the caller has it already."""
    import hashlib

    if _declared is not None and name not in _declared:
        return "undeclared"  # load() would refuse it: never let a kept figure hide that
    declared = (_declared or {}).get(name)
    if str(declared or View(name)) != view:
        return "other view"
    if declared is None or (declared.columns is None and declared.key is None):
        if content is None:
            path = paths.DATA / resource(name)["path"]
            content = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
        return content or "missing"
    return view_digest(declared)


def open_traces() -> list[list]:
    return list(_traces)


class trace:
    """``with trace() as reads:`` collects (table, view, record) for every table loaded inside the block."""

    def __enter__(self) -> list:
        self.reads: list = []
        _traces.append(self.reads)
        return self.reads

    def __exit__(self, *exc) -> None:
        _traces.remove(self.reads)


def load(name: str):
    """The table ``name`` as a pandas DataFrame with schema types; NA stays missing (``pd.NA``). When the chapter
    declared a :class:`View` of it, exactly that view (its columns; its rows, renumbered from 0).

    Raises :class:`DataError` naming file, row and column when the table breaks its schema, or when a chapter reads
    a table it did not declare in ``book.setup(...)``. A table is validated once per content of its file, schema
    and the bib keys (chapters call helpers that load the same table many times: 129 loads in one chapter); each
    call returns its own copy.
    """
    import hashlib

    res = resource(name)
    path = paths.DATA / res["path"]
    if _declared is not None and name not in _declared:
        raise DataError([Problem(_rel(path), None, None, "undeclared",
                                 f"is read but not declared: add '{name}' to book.setup(...) in this chapter")])
    from relaxbook.bib import keys
    bib_keys = keys()
    content = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    view = (_declared or {}).get(name)
    if _traces:  # a kept figure is being drawn: note what it reads (the file's hash is at hand)
        record = (name, str(view or View(name)), read_record(name, str(view or View(name)), content))
        for reads in _traces:
            reads.append(record)
    memo_key = (name, json.dumps(res, sort_keys=True), content, hash(frozenset(bib_keys)))
    if memo_key not in _loaded:
        _loaded[memo_key] = _frame(res, bib_keys)
    if view is None or (view.columns is None and view.key is None):
        return _loaded[memo_key].copy()
    df = _loaded[memo_key]
    if view.key:
        other = _loaded_full(view.other)
        df = df[df[view.key].isin(other[view.key].dropna())]
    if view.columns is not None:
        df = df[list(view.columns)]
    return df.reset_index(drop=True).copy()


def _loaded_full(name: str):
    """Table ``name`` whole, whatever the chapter declared of it (a view's rows are chosen by another table)."""
    global _declared
    saved, _declared = _declared, None
    try:
        return load(name)
    finally:
        _declared = saved


def checked_rows(res: dict, bib_keys: set[str] | None = None) -> list[dict]:
    """The typed rows of one table; :class:`DataError` listing every problem if it breaks its schema."""
    rows, problems = check_table(res, bib_keys)
    if problems:
        raise DataError(problems)
    return rows


def _frame(res: dict, bib_keys: set[str]):
    import pandas as pd

    rows = checked_rows(res, bib_keys)
    dtypes = {"integer": "Int64", "year": "Int64", "number": "Float64", "boolean": "boolean"}
    cols = [fd["name"] for fd in res["schema"]["fields"]]
    df = pd.DataFrame(rows, columns=cols)
    for fd in res["schema"]["fields"]:
        kind = fd.get("type", "string")
        if kind in dtypes:
            df[fd["name"]] = pd.array(df[fd["name"]].tolist(), dtype=dtypes[kind])
        else:
            df[fd["name"]] = df[fd["name"]].astype("object").where(df[fd["name"]].notna(), pd.NA)
    return df
