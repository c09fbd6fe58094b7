"""``python -m relaxbook.tools.pdf BOOK.pdf``: make the printed PDF reproducible, in place.

Chromium writes the print time into the PDF's creation and modification dates and a random file id. The dates
become ``SOURCE_DATE_EPOCH`` (the Makefile sets it from the last commit), the id a hash of the content, and the
XMP metadata packet (which repeats the dates) is dropped: two builds of one commit give the same bytes.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path


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
    if len(args) != 1:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    normalise(Path(args[0]), int(epoch) if epoch else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
