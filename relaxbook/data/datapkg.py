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
from datetime import date
from pathlib import Path

from relaxbook.data import bib, paths
from relaxbook.data.errors import DataError, Problem

NA = "NA"
GUIDE = "benchchem2025lanperisone"  # the references.bib key of the source guide the book checks
NA_SPELLINGS = {"n/a", "n.a.", "-", "--", "—", "–", "?", "null", "nan"}  # unknown has one spelling: NA
# columns a table must not store because the book computes them, and where from
COMPUTED = {
    ("claims", "status"): "a claim's status is computed from its elements (data/claim_elements.csv) by the "
    "rule in relaxbook/data/status.py; remove the column"
}


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


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
    raise DataError([Problem(_rel(paths.PACKAGE), None, None, "resource", f"no table named '{name}' (known: {known})")])


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
        return (
            [],
            [],
            [
                Problem(
                    f,
                    1,
                    header[0] if header else None,
                    "encoding",
                    "starts with a UTF-8 byte-order mark (BOM); save as UTF-8 without BOM",
                )
            ],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = list(csv.reader(io.StringIO(raw[: exc.start].decode("utf-8"), newline="")))
        row = len(before) or 1
        header = before[0] if before else []
        cell = len(before[-1]) - 1 if before else 0
        column = header[cell] if 0 <= cell < len(header) else None
        return (
            [],
            [],
            [
                Problem(
                    f,
                    row,
                    column,
                    "encoding",
                    f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                )
            ],
        )
    rows = list(csv.reader(io.StringIO(text, newline="")))  # CRLF and LF are both accepted
    if not rows or not any(cell.strip() for cell in rows[0]):
        return [], [], [Problem(f, 1, None, "empty", "is empty: expected a header row and data rows")]
    if len(rows[0]) == 1:
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs")):
            if delimiter in rows[0][0]:
                return (
                    [],
                    [],
                    [
                        Problem(
                            f,
                            1,
                            None,
                            "delimiter",
                            f"is separated by {name}, not commas: save it as "
                            "CSV with commas (a spreadsheet's 'CSV UTF-8 (comma delimited)')",
                        )
                    ],
                )
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
        if (res["name"], col) in COMPUTED:
            problems.append(Problem(f, 1, col, "computed-column", f"is not stored: {COMPUTED[res['name'], col]}"))
        elif col not in names:
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
    key_columns = set(pk) | {c for fk in res["schema"].get("foreignKeys", []) for c in _as_list(fk["fields"])}
    key_columns |= {fd["name"] for fd in fields if fd.get("bibkey") or fd.get("listOf")}
    seen: dict[tuple, int] = {}
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            problems.append(Problem(f, i, None, "row-length", f"has {len(row)} cells, header has {len(header)}"))
            continue
        cells = dict(zip(header, row, strict=True))
        out = {}
        for fd in fields:
            col, value = fd["name"], cells[fd["name"]]
            cons = fd.get("constraints", {})
            if value.strip() == "":
                problems.append(Problem(f, i, col, "blank", "is empty; write NA for unknown"))
                continue
            if value.strip().lower() in NA_SPELLINGS:
                problems.append(Problem(f, i, col, "na-spelling", f"'{value}' means unknown: write NA"))
                continue
            if col in key_columns and value != value.strip():
                problems.append(Problem(f, i, col, "whitespace", f"{value!r} has spaces around it; a key must not"))
                continue
            conv, err = _convert(value, fd)
            if err:
                problems.append(Problem(f, i, col, "type", err))
                continue
            if conv is None and value == NA and cons.get("required"):
                problems.append(Problem(f, i, col, "required", "is NA but this column is required"))
            if conv is not None:
                if "enum" in cons and conv not in cons["enum"]:
                    problems.append(
                        Problem(f, i, col, "enum", f"'{value}' is not one of: {', '.join(map(str, cons['enum']))}")
                    )
                if "minimum" in cons and conv < cons["minimum"]:
                    problems.append(Problem(f, i, col, "minimum", f"{value} is below the minimum {cons['minimum']}"))
                if "maximum" in cons and conv > cons["maximum"]:
                    problems.append(Problem(f, i, col, "maximum", f"{value} is above the maximum {cons['maximum']}"))
                if "pattern" in cons and not re.fullmatch(cons["pattern"], str(conv)):
                    problems.append(Problem(f, i, col, "pattern", f"'{value}' does not match {cons['pattern']}"))
                if fd.get("bibkey") and bib_keys is not None:
                    for key in str(conv).split(";"):
                        if key.strip() not in bib_keys:
                            problems.append(
                                Problem(f, i, col, "bibkey", f"'{key.strip()}' is not a key in references.bib")
                            )
            out[col] = conv
        if pk:
            key = tuple(out.get(c) for c in pk)
            if key in seen:
                problems.append(
                    Problem(
                        f,
                        i,
                        ",".join(pk),
                        "primary-key",
                        f"duplicate key {key if len(key) > 1 else key[0]!r} (first on row {seen[key]})",
                    )
                )
            else:
                seen[key] = i
        typed.append(out)
    return typed, problems


def validate_package(bib_keys: set[str] | None = None) -> dict[str, list[dict]]:
    """Validate every table, the foreign keys between them, every bib-key column and the cross-table rules
    (:func:`check_evidence`).

    Returns the typed rows per table; raises :class:`DataError` listing every problem, including a malformed
    ``references.bib`` (then bib-key columns are not checked, as every key would look unknown).
    """
    problems: list[Problem] = []
    if bib_keys is None:
        try:
            bib_keys = bib.keys()
        except DataError as exc:
            problems += [
                Problem(
                    p.file, p.row, p.column, p.rule, re.sub(r"^syntax error in line \d+: ", "syntax error: ", p.message)
                )
                for p in exc.problems
            ]
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
                    problems.append(
                        Problem(
                            f,
                            i,
                            ",".join(cols),
                            "foreign-key",
                            f"{key[0] if len(key) == 1 else key!r} has no match in {target}.{','.join(tcols)}",
                        )
                    )
    problems += check_ranges(tables, package)
    if not broken:
        problems += check_evidence(tables, package)
    if bib_keys:
        problems += bib.lint()
    if problems:
        raise DataError(problems)
    return tables


def check_ranges(tables: dict[str, list[dict]], package: dict) -> list[Problem]:
    """In every row, a ``*_min*`` column is not above its ``*_max*`` twin (e.g. ``dose_min_mg_per_day``)."""
    problems = []
    for res in package["resources"]:
        names = [fd["name"] for fd in res["schema"]["fields"]]
        pairs = [
            (n, n.replace("_min", "_max", 1)) for n in names if "_min" in n and n.replace("_min", "_max", 1) in names
        ]
        for lo, hi in pairs:
            for i, row in enumerate(tables.get(res["name"], []), start=2):
                a, b = row.get(lo), row.get(hi)
                if a is not None and b is not None and a > b:
                    problems.append(
                        Problem(_rel(paths.DATA / res["path"]), i, lo, "min-max", f"{a:g} is above {hi} = {b:g}")
                    )
    return problems


def excluded_keys(tables: dict[str, list[dict]]) -> dict[str, tuple[str, str]]:
    """Bib keys of excluded work -> (study_id, the reason's first words): retracted papers, trials that cannot be
    located (whose key is the guide itself), duplicates. Such work supports nothing."""
    out = {}
    for study in tables.get("studies", []):
        if study.get("inclusion") == "excluded":
            reason = str(study.get("exclusion_reason") or "excluded").split(":")[0].split(" (")[0]
            for key in str(study.get("source_key") or "").split(";"):
                out[key.strip()] = (study.get("study_id"), reason)
    return out


def check_evidence(tables: dict[str, list[dict]], package: dict) -> list[Problem]:
    """Rules across tables that keep the evidence honest:

    * every claim has at least one element, and the elements of a claim are numbered 1, 2, 3...;
    * an element found ``supported`` or ``contradicted`` names the source that says so, and no element is
      ``supported`` by excluded work (retracted, not located, duplicate): it supports nothing;
    * no element was checked after the evidence cut-off;
    * a retracted study never ``supports…`` a conclusion;
    * every id in a ``;``-separated list column (``"listOf": "table.column"``) exists;
    * no arm has more patients than its study.
    """
    files = {r["name"]: _rel(paths.DATA / r["path"]) for r in package["resources"]}
    problems: list[Problem] = []
    excluded = excluded_keys(tables)
    elements: dict[str, list[int]] = {}
    cutoff = date.fromisoformat(package["evidence_cutoff"])
    for i, el in enumerate(tables.get("claim_elements", []), start=2):
        where = files["claim_elements"]
        elements.setdefault(el.get("claim_id"), []).append(el.get("element_no"))
        keys = [k.strip() for k in str(el.get("source_key") or "").split(";") if el.get("source_key")]
        name = f"element {el.get('claim_id')}.{el.get('element_no')}"
        if el.get("finding") in ("supported", "contradicted") and not keys:
            problems.append(
                Problem(
                    where,
                    i,
                    "source_key",
                    "no-source",
                    f"{name} is '{el.get('finding')}' but names no source: give the key of the work that says so",
                )
            )
        for key in keys:
            if el.get("finding") == "supported" and key in excluded:
                study, reason = excluded[key]
                problems.append(
                    Problem(
                        where,
                        i,
                        "source_key",
                        "excluded-support",
                        f"{name} is 'supported' by '{key}', the work of excluded study {study} "
                        f"({reason}): excluded work supports nothing; use another source or "
                        "'not addressed'",
                    )
                )
        if el.get("date_checked") and el.get("date_checked") > cutoff:
            problems.append(
                Problem(
                    where,
                    i,
                    "date_checked",
                    "after-cutoff",
                    f"{el.get('date_checked')} is after the evidence cut-off {cutoff} "
                    "(data/datapackage.json, evidence_cutoff)",
                )
            )
    for claim_id, numbers in elements.items():
        if None not in numbers and sorted(numbers) != list(range(1, len(numbers) + 1)):
            problems.append(
                Problem(
                    files["claim_elements"],
                    None,
                    "element_no",
                    "numbering",
                    f"the elements of {claim_id} are numbered {sorted(numbers)}, not 1 to {len(numbers)}",
                )
            )
    for i, claim in enumerate(tables.get("claims", []), start=2):
        if claim.get("claim_id") is not None and claim.get("claim_id") not in elements:
            problems.append(
                Problem(
                    files["claims"],
                    i,
                    "claim_id",
                    "no-elements",
                    f"claim {claim.get('claim_id')} has no elements in data/claim_elements.csv: split it "
                    "into what can be checked",
                )
            )
    retracted = {s for s, r in excluded.values() if r.startswith("retracted")}
    for i, link in enumerate(tables.get("conclusion_evidence", []), start=2):
        if link.get("study_id") in retracted and str(link.get("role") or "").startswith("supports"):
            problems.append(
                Problem(
                    files["conclusion_evidence"],
                    i,
                    "role",
                    "retracted-support",
                    f"retracted study {link.get('study_id')} cannot support claim {link.get('claim_id')}",
                )
            )
    for res in package["resources"]:
        for fd in res["schema"]["fields"]:
            if not fd.get("listOf"):
                continue
            table, column = fd["listOf"].split(".")
            known = {str(r.get(column)) for r in tables.get(table, [])}
            for i, row in enumerate(tables.get(res["name"], []), start=2):
                for item in str(row.get(fd["name"]) or "").split(";") if row.get(fd["name"]) else []:
                    if item.strip() not in known:
                        problems.append(
                            Problem(
                                files[res["name"]],
                                i,
                                fd["name"],
                                "list-key",
                                f"'{item.strip()}' has no match in {table}.{column}",
                            )
                        )
    n_total = {s.get("study_id"): s.get("n_total") for s in tables.get("studies", [])}
    for i, arm in enumerate(tables.get("arms", []), start=2):
        total = n_total.get(arm.get("study_id"))
        if arm.get("n_arm") is not None and total is not None and arm.get("n_arm") > total:
            problems.append(
                Problem(
                    files["arms"],
                    i,
                    "n_arm",
                    "arm-size",
                    f"{arm.get('n_arm')} patients, more than study {arm.get('study_id')}'s n_total {total}",
                )
            )
    return problems


# --- what a chapter may read: the tables it declares -------------------------------------------------------

_SETUP_CALL = re.compile(r"\bbook\.setup\(([^)]*)\)")


CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)
CELL_OPTION = re.compile(r"^:[\w-]+:.*\n", re.M)


def page_code(text: str) -> str:
    """The code cells of a MyST text notebook, without their ``:option:`` lines."""
    return "\n".join(CELL_OPTION.sub("", body) for body in CODE_CELL.findall(text))


def declared_tables(text: str) -> list[str] | None:
    """The table names passed to a page's ``book.setup(...)`` call(s), read from its code cells only (the prose may
    show such a call); None when the page has no such call. They must be string literals: anything else raises
    ValueError, so the declaration can be read without running the page."""
    import ast

    calls = _SETUP_CALL.findall(page_code(text) if CODE_CELL.search(text) else text)
    if not calls:
        return None
    names: list[str] = []
    for args in calls:
        for arg in ast.parse(f"f({args})", mode="eval").body.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise ValueError(f"book.setup(...) takes table names as string literals, got {ast.unparse(arg)}")
            names.append(arg.value)
    return names


_declared: set[str] | None = None


def declare(tables) -> None:
    """Declare the tables a chapter reads (called by ``book.setup``): loading any other table then fails, so the
    declaration in each chapter's first cell is a complete, checked list of its data dependencies."""
    global _declared
    package = descriptor()
    for name in tables:
        resource(name, package)  # an unknown table is named now, with the known ones
    _declared = set(tables)


_loaded: dict[tuple, object] = {}  # validated tables, keyed by everything their content depends on


def load(name: str):
    """The table ``name`` as a pandas DataFrame with schema types; NA stays missing (``pd.NA``).

    Raises :class:`DataError` naming file, row and column when the table breaks its schema, or when a chapter reads
    a table it did not declare in ``book.setup(...)``. A table is validated once per content of its file, schema
    and the bib keys (chapters call helpers that load the same table many times); each call returns its own copy.
    """
    import hashlib

    res = resource(name)
    path = paths.DATA / res["path"]
    if _declared is not None and name not in _declared:
        raise DataError(
            [
                Problem(
                    _rel(path),
                    None,
                    None,
                    "undeclared",
                    f"is read but not declared: add '{name}' to book.setup(...) in this chapter",
                )
            ]
        )
    bib_keys = bib.keys()
    content = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    memo_key = (name, json.dumps(res, sort_keys=True), content, hash(frozenset(bib_keys)))
    if memo_key not in _loaded:
        _loaded[memo_key] = _frame(res, bib_keys)
    return _loaded[memo_key].copy()


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
