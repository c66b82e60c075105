"""An order's tickets as a PDF, for the download link and the confirmation email: one A4 page per
ticket, so each can be printed, cut or forwarded on its own."""
from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from flask_babel import gettext as _
from fpdf import FPDF

from ..domain.clock import now
from ..domain.models import Order
from .localized import event_ends, event_starts
from .tickets import qr_png, tickets

# fpdf2's core fonts know only Latin-1; DejaVu (Debian's fonts-dejavu-core) writes any title.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# What Latin-1 lacks but titles often hold; anything else Latin-1 lacks becomes "?".
_LATIN1 = str.maketrans({"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...",
                         "•": "*", "€": "EUR", "\u00a0": " "})
QR_MM = 70  # about 2.8 in: scans from paper or a dimmed phone screen at arm's length
CODE_FONT = "Courier"  # codes are ASCII: a core font keeps them plain text for copying and searching


def tickets_pdf(order: Order) -> bytes:
    """The tickets of a confirmed order (``readmodels.tickets.tickets``); refuses an order with none,
    since an empty PDF would look like a ticket that is missing. Written in the current language
    (the page's, or the email's forced one), dates included."""
    issued = tickets(order)
    if not issued:
        raise ValueError(f"order {order.id} has no tickets (status {order.status.value})")
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(now())  # the clock's "now": the same bytes for the same order under a frozen clock
    pdf.set_title(_("Tickets: %(title)s", title=order.event.title))
    pdf.set_author("eventsite")
    pdf.set_auto_page_break(False)  # one ticket, one page, whatever a long title does
    font, text = _font(pdf)
    for ticket in issued:
        _page(pdf, font, text, order, ticket, len(issued))
    return bytes(pdf.output())


def _font(pdf: FPDF) -> tuple[str, Callable[[str], str]]:
    """The font family to write with and how text must be prepared for it."""
    paths = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    if all(path.is_file() for path in paths.values()):
        for style, path in paths.items():
            pdf.add_font("DejaVu", style, str(path))
        return "DejaVu", str
    return "Helvetica", lambda value: value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _page(pdf: FPDF, font: str, text: Callable[[str], str], order: Order, ticket, count: int) -> None:
    event = order.event
    pdf.add_page()
    width = pdf.epw

    def line(value: str, size: float, style: str = "", gap: float = 2) -> None:
        pdf.set_font(font, style, size)
        pdf.multi_cell(width, size * 0.5, text(value), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(gap)

    line(_("Ticket %(number)s of %(total)s", number=ticket.number, total=count), 11, gap=4)
    line(event.title, 24, "B", gap=5)
    line(event_starts(event), 13)
    if ends := event_ends(event):
        line(_("Ends %(ends)s", ends=ends), 11)
    if event.venue:
        line(event.venue, 13)
    pdf.ln(4)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(6)
    line(ticket.ticket_type, 18, "B")
    line(_("Issued to %(email)s", email=order.email), 11, gap=6)
    pdf.image(io.BytesIO(qr_png(ticket.code, scale=10)), x=pdf.l_margin + (width - QR_MM) / 2, w=QR_MM, h=QR_MM)
    pdf.ln(3)
    pdf.set_font(CODE_FONT, "B", 14)
    pdf.cell(width, 7, ticket.code, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    line(_("Show this code at the entrance, printed or on your phone. It admits one person; "
           "keep it to yourself until then."), 10)
