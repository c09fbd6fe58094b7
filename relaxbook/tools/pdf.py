"""``python -m relaxbook.tools.pdf PAGE.html BOOK.pdf``: print the single-page build to a PDF people can use, offline.

Debian's chromium, driven by Playwright, prints the page with page numbers in every footer and a PDF outline
(bookmarks) from the headings. Then the file is made reproducible: chromium writes the
print time into the creation and modification dates and a random file id, so the dates become
``SOURCE_DATE_EPOCH`` (the Makefile sets it from the last commit), the id a hash of the content, and the XMP metadata
packet (which repeats the dates) is dropped: two builds of one commit give the same bytes.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if Path(p).exists()), None)
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#444;">'
    '<span class="title"></span> · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)


def print_pdf(page: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        raise SystemExit("chromium is missing: run `make sysdeps`")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            tab = browser.new_page()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            tab.emulate_media(media="print")
            tab.pdf(
                path=str(out),
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
                margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
            )
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
