"""The evidence changelog (relaxbook/changelog.py) on synthetic snapshots, and `make release` end to end in a scratch
git repository: a snapshot per release, statuses compared release by release, refusals of a dirty tree and of a
version already released."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, claims_with_status, make, run, toc_files
from relaxbook import changelog
from relaxbook.data.status import STATUSES
from relaxbook.tools import release as rel


def snap(*rows):
    """A snapshot from (claim_id, status[, note]) tuples; the claim's text says which claim it is."""
    return pd.DataFrame(
        [
            {
                "claim_id": r[0],
                "claim_text": f"statement {r[0]}",
                "status": r[1],
                "date_checked": "2026-01-01",
                "note": r[2] if len(r) > 2 else f"why {r[0]} is {r[1]}",
            }
            for r in rows
        ],
        columns=changelog.SNAPSHOT,
    )


def releases(**versions):
    """data/releases.csv rows from ``v0_1_0=(date, snapshot)`` keyword arguments."""
    frames = []
    for name, (released, frame) in versions.items():
        frames.append(frame.assign(version=name[1:].replace("_", "."), released=released))
    return pd.concat(frames, ignore_index=True)


# --- pure functions ------------------------------------------------------------------------------------------


def test_a_changed_claim_shows_from_and_to_with_the_note_that_explains_it():
    before = snap(("c01", "verified"), ("c02", "partly verified"))
    after = snap(("c01", "contradicted", "the label says otherwise"), ("c02", "partly verified"))
    changes = changelog.status_changes(before, after)
    assert changes.to_dict("records") == [
        {
            "claim_id": "c01",
            "claim_text": "statement c01",
            "change": "changed",
            "was": "verified",
            "now": "contradicted",
            "note": "the label says otherwise",
        }
    ]


def test_an_unchanged_claim_is_left_out_even_when_its_note_or_date_changed():
    before = snap(("c01", "verified", "old words"))
    after = snap(("c01", "verified", "new words")).assign(date_checked="2026-06-01")
    assert changelog.status_changes(before, after).empty


def test_a_new_claim_and_a_removed_claim_are_shown_as_such():
    before = snap(("c01", "verified"), ("c02", "unsupported", "nothing says it"))
    after = snap(("c01", "verified"), ("c03", "not found", "the cited work is missing"))
    rows = {r["claim_id"]: r for r in changelog.status_changes(before, after).to_dict("records")}
    assert set(rows) == {"c02", "c03"}
    assert (rows["c03"]["change"], rows["c03"]["was"], rows["c03"]["now"]) == ("new", None, "not found")
    assert rows["c03"]["note"] == "the cited work is missing"
    assert (rows["c02"]["change"], rows["c02"]["was"], rows["c02"]["now"]) == ("removed", "unsupported", None)
    assert rows["c02"]["note"] == "nothing says it"  # a removed claim keeps the explanation it had
    shown = changelog.changes_rows(changelog.status_changes(before, after), linked_ids={"c01", "c03"})
    by_text = {r["statement"]: r for r in shown.to_dict("records")}
    new = by_text["[statement c03](#claim-c03)"]  # linked: the claim exists today
    gone = by_text["statement c02"]  # a removed claim has no anchor to link to
    nbsp = "\u00a0"  # a status is not split across lines
    assert new["status"] == f"\\(new{nbsp}statement\\) → ?{nbsp}not{nbsp}found"
    assert gone["status"] == f"✖{nbsp}unsupported → \\(removed\\)"
    assert new["note"] == "the cited work is missing" and gone["note"] == "nothing says it"


def test_changes_follow_the_claims_numbers_and_empty_results_keep_their_columns():
    before = snap(("c100", "verified"), ("c99", "verified"), ("c07", "verified"))
    after = snap(("c100", "unsupported"), ("c99", "unsupported"), ("c07", "unsupported"))
    assert changelog.status_changes(before, after)["claim_id"].tolist() == ["c07", "c99", "c100"]
    same = changelog.status_changes(before, before)
    assert same.empty and list(same.columns) == changelog.CHANGE_COLUMNS
    assert list(changelog.changes_rows(same, set()).columns) == ["statement", "status", "note"]
    assert list(changelog.snapshot(pd.DataFrame([])).columns) == changelog.SNAPSHOT


def test_the_starting_counts_table_shows_each_status_in_words_with_its_count():
    shown = changelog.counts_rows({"verified": 2, "partly verified": 0, "not found": 1})
    assert shown.to_dict("records") == [
        {"status": "✔ verified", "n": 2},
        {"status": "◐ partly verified", "n": 0},
        {"status": "? not found", "n": 1},
    ]


def test_the_first_release_gives_starting_counts_that_sum_to_its_claims():
    first = snap(("c01", "verified"), ("c02", "verified"), ("c03", "contradicted"), ("c04", "not found"))
    entries = changelog.history(releases(v0_1_0=("2026-01-01", first)), snap(("c01", "verified")))
    start = entries[-1]
    assert start["version"] == "0.1.0" and "changes" not in start
    assert list(start["counts"]) == STATUSES
    assert start["counts"] == {"verified": 2, "partly verified": 0, "unsupported": 0, "contradicted": 1, "not found": 1}
    assert sum(start["counts"].values()) == start["total"] == len(first)


def test_history_is_newest_first_and_compares_each_release_with_the_one_before():
    # 0.10.0 is newer than 0.9.0: versions sort as numbers, not as text
    r1 = snap(("c01", "verified"), ("c02", "unsupported"))
    r9 = snap(("c01", "partly verified"), ("c02", "unsupported"))
    r10 = snap(("c01", "partly verified"), ("c02", "verified"))
    now = snap(("c01", "contradicted"), ("c02", "verified"))
    data = releases(v0_9_0=("2026-02-01", r9), v0_10_0=("2026-03-01", r10), v0_1_0=("2026-01-01", r1))
    entries = changelog.history(data, now)
    assert [e["version"] for e in entries] == ["Unreleased", "0.10.0", "0.9.0", "0.1.0"]
    assert [e.get("against") for e in entries] == ["0.10.0", "0.9.0", "0.1.0", None]
    assert [e["released"] for e in entries] == [None, "2026-03-01", "2026-02-01", "2026-01-01"]
    moved = [(e["changes"]["claim_id"].tolist(), e["changes"]["now"].tolist()) for e in entries[:3]]
    assert moved == [(["c01"], ["contradicted"]), (["c02"], ["verified"]), (["c01"], ["partly verified"])]
    assert changelog.caption(entries[0]).startswith(
        "Not yet released: statements whose status changed since release 0.10.0"
    )
    assert changelog.caption(entries[-1]).startswith("Release 0.1.0 (2026-01-01): statements of the guide per status")
    assert [changelog.label(e["version"], "changes") for e in entries[:2]] == [
        "tbl-changes-unreleased",
        "tbl-changes-0-10-0",
    ]
    numbers = changelog.numbers(entries)
    assert numbers["changelog_last_release"] == "0.10.0"
    assert numbers["changelog_unreleased_changed"] == 1
    assert (numbers["changelog_first_release"], numbers["changelog_first_total"]) == ("0.1.0", 2)
    assert numbers["changelog_releases"] == 3


def test_without_a_release_today_is_the_first_state():
    entries = changelog.history(releases(v0_1_0=("2026-01-01", snap(("c01", "verified")))).iloc[0:0], snap())
    assert [e["version"] for e in entries] == ["Unreleased"] and entries[0]["total"] == 0
    numbers = changelog.numbers(entries)
    assert numbers["changelog_first_date"] == "not yet released" and numbers["changelog_releases"] == 0
    assert "changelog_last_release" not in numbers and "changelog_unreleased_changed" not in numbers


def test_a_release_of_one_claim_with_no_change_since_says_so():
    entries = changelog.history(releases(v1_0_0=("2026-05-01", snap(("c01", "verified")))), snap(("c01", "verified")))
    assert entries[1]["released"] == "2026-05-01" and entries[0]["changes"].empty
    assert changelog.caption(entries[0]) == "Not yet released: no statement changed status since release 1.0.0."
    assert changelog.numbers(entries)["changelog_unreleased_changed"] == 0


def test_a_statement_is_shown_in_words_linked_to_its_claim_and_never_by_its_id_alone():
    long = "Lanperisone is believed to act at the reticular formation in the brainstem by blocking sodium channels [2]."
    link = changelog.statement_link("c04", long, {"c04"})
    assert link.startswith("[Lanperisone is believed") and link.endswith("](#claim-c04)")
    text = link[1 : link.index("](")]
    assert len(text.replace("\\", "")) <= changelog.SHORT and text.endswith("…")
    assert "\\[2\\]" not in text  # cut before the end, at a word
    plain = changelog.statement_link("c04", "Short [x].", set())  # a removed claim: no anchor to link to
    assert plain == "Short \\[x\\]\\." and "#claim" not in plain
    with pytest.raises(ValueError):
        changelog.statement_link("c04)", "x", {"c04)"})


def test_a_claim_never_checked_has_no_date_in_its_snapshot():
    claims = pd.DataFrame(
        [{"claim_id": "c07", "source_text": "S", "status": "verified", "date_checked": None, "evidence_says": "E"}]
    )
    assert changelog.snapshot(claims)["date_checked"].tolist() == [None]
    with pytest.raises(ValueError, match="not a version"):
        changelog.version_key("1.2")


def test_the_snapshot_of_a_claims_frame_keeps_text_status_date_and_what_the_evidence_says():
    claims = pd.DataFrame(
        [
            {
                "claim_id": "c07",
                "source_text": "S",
                "status": "verified",
                "date_checked": "2026-12-01",
                "evidence_says": "E",
            }
        ]
    )
    assert changelog.snapshot(claims).to_dict("records") == [
        {"claim_id": "c07", "claim_text": "S", "status": "verified", "date_checked": "2026-12-01", "note": "E"}
    ]


def test_an_unknown_status_in_a_snapshot_is_an_error():
    with pytest.raises(ValueError, match="unknown status"):
        changelog.starting_counts(snap(("c01", "verfied")))


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("0.2", "not a version"),
        ("v0.2.0", "not a version"),
        ("0.1.0", "already released"),
        ("0.5.0", "already released"),  # tagged, though not in data/releases.csv
        ("0.0.9", "not newer"),
        ("0.1.0.1", "not a version"),
    ],
)
def test_a_release_refuses_a_malformed_old_or_existing_version(version, message):
    with pytest.raises(rel.Refused, match=message):
        rel.check_version(version, ["0.1.0"], ["v0.1.0", "v0.5.0"])
    rel.check_version("0.1.1", ["0.1.0"], ["v0.1.0", "v0.5.0"])


def test_a_release_gives_the_unreleased_notes_their_version_heading():
    text = "# Changelog\n\n## Unreleased\n\n- a change\n\n## 0.1.0\n\n- first\n"
    out = rel.date_notes(text, "0.2.0")
    order = [out.index(part) for part in ("## Unreleased", rel.EMPTY_UNRELEASED, "## 0.2.0", "- a change")]
    assert order == sorted(order)
    assert out.count("## Unreleased") == 1 and "## 0.1.0\n\n- first" in out


def test_each_chapter_of_the_claims_anchors_its_claims_there():
    """A changelog link goes to the claim's anchor on its chapter's page (relaxbook/ext/badges.home_page): that page
    must show the chapter's claims table (or, for the conclusions, the conclusions table)."""
    from relaxbook.ext.badges import home_page

    root_doc = toc_files()[0]
    for chapter in sorted({c["chapter"] for c in claims_with_status()}):
        page = home_page(chapter, root_doc)
        assert page in toc_files(), chapter
        source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        assert f'claims_table("{chapter}"' in source or (chapter == "conclusions" and "conclusions_table()" in source)


# --- helpers ---------------------------------------------------------------------------------------------------


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- make release, end to end in a scratch git repository ------------------------------------------------------


def git(root, *args):
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def history_of(root):
    """The changelog of the scratch book, from its CSVs (csv module) and relaxbook.changelog's pure functions."""
    from relaxbook.data.status import with_status

    data = root / "data"
    current = pd.DataFrame(with_status(read(data / "claims.csv"), read(data / "claim_elements.csv")))
    return changelog.history(pd.DataFrame(read(data / "releases.csv")), changelog.snapshot(current))


def test_make_release_snapshots_statuses_and_the_changelog_shows_what_changed(scratch):
    git(scratch, "init", "-q", "-b", "main")
    git(scratch, "config", "user.email", "test@example.org")
    git(scratch, "config", "user.name", "Test")
    (scratch / ".git" / "info" / "exclude").write_text(".venv\n")  # make() links this run's venv as .venv
    git(scratch, "add", "-A")
    git(scratch, "commit", "-q", "-m", "start")

    done = make(scratch, "release", "VERSION=0.2.0", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "v0.2.0" in git(scratch, "tag", "--list").split()
    assert re.search(r"^version: 0\.2\.0$", (scratch / "CITATION.cff").read_text(), re.M)
    assert git(scratch, "status", "--porcelain") == ""
    assert "## 0.2.0" in (scratch / "chapters" / "changelog.md").read_text()
    head = git(scratch, "rev-parse", "HEAD")

    again = make(scratch, "release", "VERSION=0.2.0", timeout=120)
    assert again.returncode != 0 and "already released" in again.stderr
    assert git(scratch, "rev-parse", "HEAD") == head

    # one element of a verified claim becomes contradicted: by the rule, that claim is now contradicted
    elements_path = scratch / "data" / "claim_elements.csv"
    verified = next(c["claim_id"] for c in claims_with_status(scratch) if c["status"] == "verified")
    text = elements_path.read_text(encoding="utf-8")
    rows = read(elements_path)
    target = next(r for r in rows if r["claim_id"] == verified)
    target["finding"] = "contradicted"
    with open(elements_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert elements_path.read_text(encoding="utf-8") != text

    dirty = make(scratch, "release", "VERSION=0.3.0", timeout=120)
    assert dirty.returncode != 0 and "not clean" in dirty.stderr
    assert "v0.3.0" not in git(scratch, "tag", "--list").split()
    assert git(scratch, "rev-parse", "HEAD") == head
    assert git(scratch, "status", "--porcelain").strip() == "M data/claim_elements.csv"  # nothing else written

    git(scratch, "commit", "-q", "-am", "an element is contradicted")
    done = make(scratch, "release", "VERSION=0.3.0", timeout=120)
    assert done.returncode == 0, done.stderr
    assert run([sys.executable, "-m", "relaxbook.data.validate"], scratch, scratch).returncode == 0

    entries = history_of(scratch)
    assert [e["version"] for e in entries] == ["Unreleased", "0.3.0", "0.2.0", "0.1.0"]
    assert entries[0]["changes"].empty  # nothing changed since the last release
    assert entries[1]["changes"][["claim_id", "change", "was", "now"]].to_dict("records") == [
        {"claim_id": verified, "change": "changed", "was": "verified", "now": "contradicted"}
    ]
    snapshot_030 = [r for r in read(scratch / "data" / "releases.csv") if r["version"] == "0.3.0"]
    assert len(snapshot_030) == len(claims_with_status(scratch))
    assert {r["status"] for r in snapshot_030 if r["claim_id"] == verified} == {"contradicted"}

    # a release that fails half-way (here: CITATION.cff has no date-released line) leaves the tree as it was
    cff = scratch / "CITATION.cff"
    cff.write_text(re.sub(r"^date-released: .*\n", "", cff.read_text(), flags=re.M))
    git(scratch, "commit", "-q", "-am", "no release date")
    failed = run([sys.executable, "-m", "relaxbook.tools.release", "0.4.0"], scratch, scratch)
    assert failed.returncode == 1 and "date-released" in failed.stderr
    assert git(scratch, "status", "--porcelain") == "" and "v0.4.0" not in git(scratch, "tag", "--list").split()


# --- the built page ---------------------------------------------------------------------------------------------


def test_the_changelog_page_lists_each_changed_statement_linked_to_its_claim(pages, site):
    """The table of changes since the last release names exactly the claims whose status differs (recomputed with
    the csv module), each by its words and linked to the claim's anchor on its chapter page, which exists."""
    from bs4 import BeautifulSoup

    snaps: dict[str, dict[str, str]] = {}
    for r in read(ROOT / "data" / "releases.csv"):
        snaps.setdefault(r["version"], {})[r["claim_id"]] = r["status"]
    last = snaps[max(snaps, key=lambda v: [int(p) for p in v.split(".")])]
    now = {c["claim_id"]: c["status"] for c in claims_with_status()}
    changed = {k for k in last.keys() | now.keys() if last.get(k) != now.get(k)}

    soup = BeautifulSoup(pages["chapters/changelog"], "html.parser")
    table = soup.find("table", id="tbl-changes-unreleased")
    assert table is not None, "no table of changes since the last release"
    linked = {}
    for a in table.find_all("a", href=re.compile(r"#claim-c\d+$")):
        page, anchor = a["href"].split("#")
        linked[anchor.removeprefix("claim-")] = (page, anchor, a.get_text())
    assert set(linked) == {k for k in changed if k in now}
    texts = {c["claim_id"]: " ".join(c["source_text"].split()) for c in claims_with_status()}
    for cid, (page, anchor, text) in linked.items():
        assert text.rstrip(" …") and texts[cid].startswith(text.rstrip(" …")), (cid, text)
        target = (site / "chapters" / page).resolve()
        assert f'id="{anchor}"' in target.read_text(encoding="utf-8"), f"{cid}: no anchor on {page}"
    assert len(table.find("tbody").find_all("tr")) == len(changed)
    assert not re.search(r"\bc\d{2,3}\b", table.get_text()), "a claim id shown to readers"
