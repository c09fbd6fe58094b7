"""Reproducible output: two clean builds of the same sources give byte-identical sites (HTML, images, downloads,
search index, everything under _build/html).

The two builds differ in every way that should not matter, so hidden sources of difference show up: one is
the site this test run reads, made by `make book` (the atomic path, via a temporary output folder), the other is
`jupyter-book build .` by hand in a fresh copy (which must be equivalent); they run in different folders, with
different hash seeds (set ordering), time zones and wall-clock dates (the second runs under faketime, 400 days back).
The first runs its chapters on warm, reused kernels (relaxbook.ext.executor); the second gives every chapter a new
kernel (`RELAXBOOK_KERNELS=0`, myst-nb's own execution), so the test also shows that reusing kernels changes nothing."""

from __future__ import annotations

import os
import re

import pytest

from conftest import BIN, JUPYTER_BOOK, ROOT, copy_repo, run, toc_files, tree_hashes

pytestmark = pytest.mark.build


def differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """Files that differ, or exist in one build only, one line each."""
    out = [f"differs: {f}" for f in sorted(a.keys() & b.keys()) if a[f] != b[f]]
    out += [f"only in the first build: {f}" for f in sorted(a.keys() - b.keys())]
    out += [f"only in the second build: {f}" for f in sorted(b.keys() - a.keys())]
    return out


def pdf_content(path) -> dict:
    """What a reader gets from a PDF: its pages' text, its bookmarks with their pages, and its dates. (Not its bytes:
    chromium numbers its graphics states and tagged-structure entries differently from one print to another.)"""
    import subprocess

    import pikepdf

    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        number = {page.objgen: i + 1 for i, page in enumerate(pdf.pages)}
        marks, stack = [], list(outline.root)
        while stack:
            item = stack.pop(0)
            dest = item.destination
            marks.append((item.title, number.get(dest[0].objgen) if isinstance(dest, pikepdf.Array) else None))
            stack += list(item.children)
        dates = (str(pdf.docinfo.get("/CreationDate")), str(pdf.docinfo.get("/ModDate")))
        pages = len(pdf.pages)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return {"pages": pages, "text": text.split("\f"), "bookmarks": marks, "dates": dates}


def test_differences_lists_every_changed_missing_and_extra_file():
    assert differences({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "x", "d": "4"}) == [
        "differs: b",
        "only in the first build: c",
        "only in the second build: d",
    ]


def test_two_clean_strict_builds_exit_zero_and_are_byte_identical(site, tmp_path):
    """The first build is the site this test run reads (``make book``, the atomic path, in the checkout); the second
    is a plain ``jupyter-book build .`` of a fresh copy, made as unlike `make book` as it can be (another folder, no
    atomic output folder, another hash seed and time zone, a wall clock 400 days back, one new kernel per chapter),
    which must also exit 0. The PDF is printed again and compared by what a reader gets (pages, text, bookmarks,
    dates from SOURCE_DATE_EPOCH)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or run(["git", "log", "-1", "--format=%ct"], cwd=ROOT).stdout.strip()
    book = copy_repo(tmp_path / "book")
    if (ROOT / ".git").exists():  # the same commit in the footer stamp: the copy reads the checkout's history
        (book / ".git").write_text(f"gitdir: {(ROOT / '.git').resolve()}\n")
    environ = {"PYTHONHASHSEED": "2", "TZ": "Pacific/Auckland", "RELAXBOOK_KERNELS": "0", "SOURCE_DATE_EPOCH": epoch}
    result = run(["faketime", "-f", "-400d", *JUPYTER_BOOK, "build", "."], cwd=book, root=book, **environ)
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # no colour codes
    assert result.returncode == 0, log[-3000:]
    assert "[relaxbook]" not in log, "the second build must give every chapter a new kernel"
    assert log.count("Executed notebook in") > 5
    # the PDF printed again from the checkout's single-page build, at another time and in another time zone
    printed = tmp_path / "book.pdf"
    single = ROOT / "_build" / "singlehtml" / f"{toc_files()[0]}.html"
    result = run(
        ["faketime", "-f", "-400d", str(BIN / "python"), "-m", "relaxbook.tools.pdf", str(single), str(printed)],
        cwd=ROOT,
        TZ="Pacific/Auckland",
        SOURCE_DATE_EPOCH=epoch,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert pdf_content(printed) == pdf_content(site / "_downloads" / "book.pdf"), "two prints of the same book differ"

    a, b = tree_hashes(site), tree_hashes(book / "_build" / "html")
    a.pop("_downloads/book.pdf")  # the hand build does not print the PDF (compared above)
    pages = {p for p in a if p.endswith(".html")}
    images = {p for p in a if p.startswith("_images/")}
    assert len(pages) > 5 and len(images) >= 5, "the first build looks incomplete"
    diff = differences(a, b)
    print(f"\nreproducibility: compared {len(a.keys() | b.keys())} files, {len(diff)} differ")
    assert not diff, "the two builds differ:\n" + "\n".join(diff)
