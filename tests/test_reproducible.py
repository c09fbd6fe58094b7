"""Reproducible output: two clean builds of the same sources give byte-identical sites (HTML, images, downloads,
search index, everything under _build/html).

The two builds differ in every way that should not matter, so hidden sources of difference show up: one is
`make book` (the atomic path, via a temporary output folder), the other is `jupyter-book build .` by hand (which must
be equivalent); they run in different folders, with different hash seeds (set ordering), time zones and wall-clock
dates (the second runs under faketime, a year later).
The first runs its chapters on warm, reused kernels (relaxbook.ext.executor); the second gives every chapter a new
kernel (`RELAXBOOK_KERNELS=0`, myst-nb's own execution), so the test also shows that reusing kernels changes nothing."""

from __future__ import annotations

import pytest

from conftest import BIN, copy_repo, make, run, tree_hashes

pytestmark = pytest.mark.build


def differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """Files that differ, or exist in one build only, one line each."""
    out = [f"differs: {f}" for f in sorted(a.keys() & b.keys()) if a[f] != b[f]]
    out += [f"only in the first build: {f}" for f in sorted(a.keys() - b.keys())]
    out += [f"only in the second build: {f}" for f in sorted(b.keys() - a.keys())]
    return out


def test_differences_lists_every_changed_missing_and_extra_file():
    assert differences({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "x", "d": "4"}) == [
        "differs: b",
        "only in the first build: c",
        "only in the second build: d",
    ]


def test_two_clean_strict_builds_exit_zero_and_are_byte_identical(tmp_path, monkeypatch):
    """Also the test that `make book` and a plain `jupyter-book build .` of a fresh copy exit 0. The PDF is compared
    too: relaxbook/tools/pdf.py takes its dates from SOURCE_DATE_EPOCH and its id from its content."""
    first = copy_repo(tmp_path / "one" / "book")
    second = copy_repo(tmp_path / "another-folder" / "book")

    monkeypatch.setenv("PYTHONHASHSEED", "1")
    monkeypatch.setenv("TZ", "UTC")
    result = make(first, "book")  # the site and its PDF
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert result.stdout.count("Executed notebook in") == result.stdout.count("in a warm kernel [relaxbook]") > 5

    monkeypatch.setenv("PYTHONHASHSEED", "2")
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    monkeypatch.setenv("RELAXBOOK_KERNELS", "0")
    # and a year later by the wall clock: nothing may take the date from the clock (faketime, from Debian)
    result = run(["faketime", "-f", "+400d", str(BIN / "jupyter-book"), "build", "."], cwd=second, root=second)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "[relaxbook]" not in result.stdout and result.stdout.count("Executed notebook in") > 5
    # the PDF printed again, at another time and in another time zone (the single-page build is up to date)
    pdf = first / "_build" / "html" / "_downloads" / "book.pdf"
    printed = pdf.read_bytes()
    pdf.unlink()
    result = make(first, "pdf")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert pdf.read_bytes() == printed, "two prints of the same book differ"

    a, b = tree_hashes(first / "_build" / "html"), tree_hashes(second / "_build" / "html")
    a.pop("_downloads/book.pdf")  # the hand build does not print the PDF (compared above)
    pages = {p for p in a if p.endswith(".html")}
    images = {p for p in a if p.startswith("_images/")}
    assert len(pages) > 5 and len(images) >= 5, "the first build looks incomplete"
    diff = differences(a, b)
    print(f"\nreproducibility: compared {len(a.keys() | b.keys())} files, {len(diff)} differ")
    assert not diff, "the two builds differ:\n" + "\n".join(diff)
