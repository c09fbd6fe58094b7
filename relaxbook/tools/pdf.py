"""``python -m relaxbook.tools.pdf PAGE.html BOOK.pdf``: print the single-page build to a PDF people can use, offline.

Debian's chromium, driven by Playwright, prints the page with page numbers in every footer and a PDF outline
(bookmarks) from the headings. It prints twice: the first print tells on which page each chapter starts (from its
bookmark), the second writes those numbers into the printed contents (the theme's ``#jb-print-toc``; the numbers
take the same room in both prints, so no page moves). Every chapter starts on a new page. Then the file is made
reproducible: chromium writes the
print time into the creation and modification dates and a random file id, so the dates become
``SOURCE_DATE_EPOCH`` (the Makefile sets it from the last commit), the id a hash of the content, and the XMP metadata
packet (which repeats the dates) is dropped: two builds of one commit give the same pages, text, bookmarks and dates
(chromium's own numbering of graphics states and tagged-structure entries can still differ between prints).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if Path(p).exists()), None)
# Debian's chromium, headless and offline (also the browser tests' launch arguments: tests/conftest.py).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#444;">'
    '<span class="title"></span> · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)


# The printed contents: every chapter link gets a page-number slot (same width in both prints).
ADD_SLOTS = """async () => {
  // every image loaded and decoded and every font ready before the first print, so both prints lay out alike
  const images = [...document.images];
  images.forEach(i => { i.loading = 'eager'; });
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  await document.fonts.ready;
  const links = [...document.querySelectorAll('#jb-print-toc li > a')];
  for (const a of links) {
    a.parentElement.style.setProperty('display', 'flex', 'important');  // the theme's print rule is list-item
    const slot = document.createElement('span');
    slot.className = 'pdf-page'; slot.textContent = '000';
    a.after(slot);
  }
  return links.map(a => a.textContent.trim());
}"""
FILL_SLOTS = (
    "numbers => document.querySelectorAll('#jb-print-toc .pdf-page').forEach((s, i) => s.textContent = numbers[i])"
)
# (the theme's own print rules for #jb-print-toc are !important, so these name the same elements more specifically)
SLOT_STYLE = """
#jb-print-toc { break-after: page; font-size: 11pt; }
#jb-print-toc ul.section-nav { list-style-type: none !important; margin-left: 1em !important; padding: 0; }
#jb-print-toc ul.section-nav li { align-items: baseline; margin: 0.25em 0; }
#jb-print-toc ul.section-nav li > a { order: 0; }
#jb-print-toc ul.section-nav li::before {
  content: ""; order: 1; flex: 1; border-bottom: 1px dotted #888; margin: 0 0.4em;
}
#jb-print-toc ul.section-nav li > .pdf-page {
  order: 2; min-width: 3ch; text-align: right; font-variant-numeric: tabular-nums;
}
.toctree-wrapper > section { break-before: page; }
"""


def chapter_pages(pdf_bytes: bytes, titles: list[str]) -> list[str]:
    """The page (1-based, as text) on which each of ``titles`` starts, from the PDF's chapter bookmarks (one level
    below the book's title; their own sections, such as each chapter's References, are a level deeper): the first at
    or after the previous chapter's whose title starts with the chapter's title ("?" when there is none)."""
    import io

    import pikepdf

    norm = lambda t: "".join(t.split()).lower()  # noqa: E731  (chromium drops some spaces in bookmark titles)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf, pdf.open_outline() as outline:
        number = {page.objgen: i + 1 for i, page in enumerate(pdf.pages)}
        marks = [
            (norm(item.title), number.get(item.destination[0].objgen))
            for top in outline.root
            for item in top.children
            if isinstance(item.destination, pikepdf.Array) and len(item.destination)
        ]
    found, start = [], 0
    for title in titles:
        hit = next((i for i in range(start, len(marks)) if marks[i][0].startswith(norm(title))), None)
        found.append(str(marks[hit][1]) if hit is not None and marks[hit][1] else "?")
        start = hit + 1 if hit is not None else start
    return found


def print_pdf(page: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        raise SystemExit("chromium is missing: run `make sysdeps`")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            tab = browser.new_page()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            tab.emulate_media(media="print")
            tab.add_style_tag(content=SLOT_STYLE)
            titles = tab.evaluate(ADD_SLOTS)
            options = dict(
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
                margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
            )
            numbers = chapter_pages(tab.pdf(**options), titles)
            for _ in range(3):  # the numbers take the room of the placeholders: one more print confirms them
                tab.evaluate(FILL_SLOTS, numbers)
                printed = tab.pdf(**options)
                if chapter_pages(printed, titles) == numbers:
                    out.write_bytes(printed)
                    return
                numbers = chapter_pages(printed, titles)
            raise SystemExit(f"the printed contents' page numbers did not settle: {numbers}")
        finally:
            browser.close()


def normalise(path: Path, epoch: int | None) -> None:
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        if "/Metadata" in pdf.Root:
            del pdf.Root.Metadata
        when = datetime.fromtimestamp(epoch or 0, tz=UTC).strftime("D:%Y%m%d%H%M%SZ")
        for key in ("/CreationDate", "/ModDate"):
            if key in pdf.docinfo or epoch is not None:
                pdf.docinfo[key] = when
        pdf.save(path, deterministic_id=True, compress_streams=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    page, out = Path(args[0]), Path(args[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    print_pdf(page, out)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    normalise(out, int(epoch) if epoch else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
