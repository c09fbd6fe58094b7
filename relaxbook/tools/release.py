"""``make release VERSION=x.y.z``: snapshot every claim's computed status, bump the version, commit and tag.

The published site is built from shallow checkouts without the repository's history, so the Changelog cannot ask git
what a claim's status was at an earlier release: each release writes it down. In order, refusing before it writes
anything when a check fails:

1. VERSION looks like ``1.2.3`` and is newer than every release in ``data/releases.csv``;
2. the working tree is clean (no modified, staged or untracked files) and tag ``v<VERSION>`` does not exist;
3. ``data/`` is valid;

then it appends one row per claim to ``data/releases.csv`` (status computed by :mod:`relaxbook.data.status`, date
checked, what the evidence says), sets ``version`` (and ``date-released``) in ``CITATION.cff`` and the data
package's ``version``, gives the changelog's ``## Unreleased`` notes the version's heading (above them a new, empty
``## Unreleased``), validates again, commits and tags ``v<VERSION>``.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from relaxbook.data import paths

FIELDS = ["version", "released", "claim_id", "claim_text", "status", "date_checked", "note"]
CHANGELOG = Path("chapters/changelog.md")
EMPTY_UNRELEASED = "Nothing yet."


class Refused(Exception):
    """A release that must not happen; the message says why."""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if done.returncode:
        raise Refused(f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def released_versions(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(dict.fromkeys(r["version"] for r in csv.DictReader(f)))


def check_version(version: str, released: list[str], tags: list[str]) -> None:
    """Refused unless ``version`` is major.minor.patch, newer than every release and not already a tag."""
    from relaxbook.changelog import version_key

    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version or ""):
        raise Refused(f"VERSION '{version}' is not a version like 1.2.3 (make release VERSION=x.y.z)")
    if f"v{version}" in tags or version in released:
        raise Refused(f"version {version} is already released (tag v{version} or data/releases.csv)")
    newer = [v for v in released if version_key(v) >= version_key(version)]
    if newer:
        raise Refused(f"version {version} is not newer than release {max(newer, key=version_key)}")


def check_clean(root: Path) -> None:
    status = git(root, "status", "--porcelain")
    if status.strip():
        raise Refused(
            "the working tree is not clean; commit or stash these first (a release is one commit):\n" + status.rstrip()
        )


def snapshot_rows(version: str, released: str) -> list[dict]:
    """One row per claim, from the validated data: the status its elements give it and what the evidence says."""
    from relaxbook.data.datapkg import DataError, validate_package
    from relaxbook.data.status import with_status

    try:
        tables = validate_package()
    except DataError as exc:
        raise Refused("data/ is invalid:\n" + "\n".join(f"  {p}" for p in exc.problems)) from None
    return [
        {
            "version": version,
            "released": released,
            "claim_id": c["claim_id"],
            "claim_text": c["source_text"],
            "status": c["status"],
            "date_checked": c["date_checked"] or "NA",
            "note": c.get("evidence_says") or "NA",
        }
        for c in with_status(tables["claims"], tables["claim_elements"])
    ]


def append_rows(path: Path, rows: list[dict]) -> None:
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, FIELDS, lineterminator="\n")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def set_line(path: Path, pattern: str, line: str) -> None:
    """Replace the first line matching ``pattern`` (a regex anchored at a line) by ``line``."""
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(pattern, line.replace("\\", r"\\"), text, count=1, flags=re.M)
    if not n:
        raise Refused(f"{path.name}: no line matches {pattern!r}")
    path.write_text(new, encoding="utf-8")


def date_notes(text: str, version: str) -> str:
    """The changelog's ``## Unreleased`` notes under the version's heading, below a new, empty ``## Unreleased``."""
    return re.sub(r"^## Unreleased$", f"## Unreleased\n\n{EMPTY_UNRELEASED}\n\n## {version}", text, count=1, flags=re.M)


def write_release(root: Path, version: str, released: str, rows: list[dict]) -> None:
    """Append the snapshot, set the versions and date the changelog's notes; Refused if the result is invalid."""
    from relaxbook.data.datapkg import DataError, validate_package

    append_rows(paths.DATA / "releases.csv", rows)
    set_line(root / "CITATION.cff", r"^version: .*$", f"version: {version}")
    set_line(root / "CITATION.cff", r"^date-released: .*$", f'date-released: "{released}"')
    set_line(paths.PACKAGE, r'^ "version": ".*",$', f' "version": "{version}",')
    notes = root / CHANGELOG
    if notes.exists():
        notes.write_text(date_notes(notes.read_text(encoding="utf-8"), version), encoding="utf-8")
    try:
        validate_package()
    except DataError as exc:
        raise Refused("the snapshot would make data/ invalid:\n" + "\n".join(f"  {p}" for p in exc.problems)) from None


def release(root: Path, version: str, released: str | None = None) -> list[str]:
    """Make release ``version`` of the book in git checkout ``root``; returns the files it committed."""
    root = root.resolve()
    paths.set_root(root)
    released = released or datetime.now(UTC).date().isoformat()
    try:
        date.fromisoformat(released)
    except ValueError:
        raise Refused(f"the date '{released}' is not YYYY-MM-DD") from None
    snapshots = paths.DATA / "releases.csv"
    check_version(version, released_versions(snapshots), git(root, "tag", "--list").split())
    check_clean(root)
    rows = snapshot_rows(version, released)
    notes = root / CHANGELOG
    changed = [snapshots, root / "CITATION.cff", paths.PACKAGE] + ([notes] if notes.exists() else [])
    files = [str(p.relative_to(root)) for p in changed]
    try:
        write_release(root, version, released, rows)
    except Refused:
        subprocess.run(["git", "-C", str(root), "checkout", "--", *files], capture_output=True)  # the clean tree back
        raise
    git(root, "add", "--", *files)
    git(root, "commit", "-q", "-m", f"Release {version}: snapshot of {len(rows)} claims' statuses")
    git(root, "tag", "-a", f"v{version}", "-m", f"Release {version}")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make release", description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the new version, major.minor.patch")
    parser.add_argument("--root", default=".", help="the book's git checkout (default: here)")
    parser.add_argument("--date", help="release date, YYYY-MM-DD (default: today, UTC)")
    args = parser.parse_args(argv)
    try:
        files = release(Path(args.root), args.version, args.date)
    except Refused as exc:
        print(f"error: refusing to release {args.version}: {exc}", file=sys.stderr)
        return 1
    print(f"released {args.version}: committed {', '.join(files)} and tagged v{args.version}")
    print(f"publish it with: git push && git push origin v{args.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
