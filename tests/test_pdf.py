"""`make pdf` prints the whole book (single-page HTML build) to one PDF inside the site, where every page links it."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from conftest import ROOT, toc_files

PDF = ROOT / "_build" / "html" / "_downloads" / "book.pdf"
SINGLE = ROOT / "_build" / "singlehtml" / "intro.html"


def test_the_pdf_exists_and_is_a_pdf_of_many_pages(site):
    assert PDF.exists(), "run `make pdf` (make test does it)"
    data = PDF.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 3 * len(toc_files()), f"only {pages} pages"


def test_the_pdf_is_not_older_than_the_site(site):
    assert (
        PDF.stat().st_mtime >= (ROOT / "_build" / ".built").stat().st_mtime - 1
        if (ROOT / "_build" / ".built").exists()
        else PDF.stat().st_mtime >= (site / "intro.html").stat().st_mtime - 1
    )


def test_the_printed_page_holds_every_chapter_and_its_references():
    soup = BeautifulSoup(SINGLE.read_text(encoding="utf-8"), "html.parser")
    titles = [h.get_text().strip("#").strip() for h in soup.select("main h1, main h2")]
    for page in toc_files():
        html = BeautifulSoup((ROOT / "_build" / "html" / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        assert html.select_one("main h1").get_text().strip("#").strip() in titles, page
    assert len(soup.select(".citation")) > 50


def test_the_pdf_has_a_bookmark_for_every_chapter(site):
    import pikepdf

    titles = set()
    with pikepdf.open(PDF) as pdf, pdf.open_outline() as outline:
        stack = list(outline.root)
        while stack:
            item = stack.pop()
            titles.add(" ".join(item.title.split()))
            stack += list(item.children)
    for page in toc_files():
        html = BeautifulSoup((ROOT / "_build" / "html" / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        title = " ".join(html.select_one("main h1").get_text().strip("#").split())
        assert any(title.replace(" ", "") in t.replace(" ", "") for t in titles), f"no bookmark for {title!r}"


def page_text(n: int) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(PDF), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_every_pdf_page_has_its_page_number_and_tables_keep_their_headers(site):
    import pikepdf

    with pikepdf.open(PDF) as pdf:
        total = len(pdf.pages)
    for n in (1, 2, total // 2, total):
        assert f"page {n} of {total}" in page_text(n), n
    import subprocess

    text = " ".join(
        subprocess.run(["pdftotext", str(PDF), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    for header in ("Participants (studies)", "Relative effect (95% CI)", "What this means", "Hepatic impairment"):
        assert header in text, f"{header!r} is missing from the PDF"


def test_the_printed_contents_give_the_page_each_chapter_starts_on(site):
    """Page 1 lists every chapter of the table of contents with a page number, and that page starts with the
    chapter's title (pdftotext reads the PDF; the titles come from the built HTML pages)."""
    contents = " ".join(page_text(1).split())
    for page in toc_files()[1:]:
        html = BeautifulSoup((ROOT / "_build" / "html" / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        title = " ".join(html.select_one("main h1").get_text().strip("#").split())
        found = re.search(re.escape(title) + r"[ .]*(\d+)\b", contents)
        assert found, f"{title!r} is not in the printed contents with a page number"
        first_line = " ".join(page_text(int(found.group(1))).split())
        assert first_line.startswith(title), f"{title!r} is listed on page {found.group(1)}, which starts otherwise"
