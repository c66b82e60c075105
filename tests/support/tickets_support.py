"""The tickets tests' event (a gala in New York) and reading a PDF's pages without a PDF library."""
from __future__ import annotations

import re
import subprocess
import zlib
from datetime import UTC, datetime

STARTS = datetime(2030, 12, 16, 0, 30, tzinfo=UTC)  # Sun 15 Dec 2030, 19:30 EST
ENDS = datetime(2030, 12, 16, 3, 0, tzinfo=UTC)  # 22:00 EST
WHEN = "Sun 15 Dec 2030, 19:30 EST (America/New_York)"
TITLE = "Winter Gala — Zürich Strings"
VENUE = "Carnegie Hall, 881 7th Ave, New York"


def pdf_strings(data: bytes) -> list[str]:
    """The literal strings drawn on a PDF's pages (core-font text such as the codes), read from its
    deflated content streams, so no PDF library is needed."""
    found = []
    # Each stream is read by its dictionary's /Length: compressed bytes may themselves end in "\r",
    # which a pattern up to "endstream" would take for the line break and cut off.
    for match in re.finditer(rb"/Length (\d+)\b[^>]*>>\s*stream\r?\n", data):
        stream = data[match.end():match.end() + int(match.group(1))]
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue  # an image or a font, not page content
        found += [text.decode("latin-1") for text in re.findall(rb"\(([^)]*)\)\s*Tj", content)]
    return found


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", data))


def pdftotext(data: bytes) -> str:
    """The PDF's text as a reader sees it (poppler's pdftotext, which `make test` installs)."""
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
