"""Messages to buyers. Each is an obligation promised with the change that causes it
(``domain.obligations``); when it is due, a job composes it from
``templates/email/<kind>.{txt,html}`` and sends it with no transaction open.

A message is composed from the order as it is *when it is sent*: one that is no
longer true (a hold that has lapsed, tickets since refunded) is not sent at all,
since the message that follows (or the page) tells the truth instead.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext

from ..domain.clock import now
from ..domain.errors import N_
from ..domain.holds import effective_status, holds_at
from ..domain.models import Obligation, ObligationKind, Order, OrderStatus, WaitlistStatus
from ..domain.obligations import promise_message
from ..domain.waitlist import why_closed
from ..gateways import mail
from ..infra.db import db
from ..infra.transactions import write_transaction
from ..readmodels import calendar, lookups, ticket_pdf, tickets

K = ObligationKind
SUBJECTS = {
    K.EMAIL_HOLD_PLACED: N_("Reserved for you: %(title)s"),
    K.EMAIL_PAID: N_("Your tickets for %(title)s"),
    K.EMAIL_LATE_PAID: N_("Your tickets for %(title)s (your payment came late, and tickets were still there)"),
    K.EMAIL_REFUNDED: N_("Refunded: your order for %(title)s"),
    K.EMAIL_PAYMENT_FAILED: N_("Your payment for %(title)s did not go through"),
    K.EMAIL_FIND_TICKETS: N_("Your orders at eventsite"),
    K.EMAIL_SIGNUP_WELCOME: N_("Your organizer account at eventsite is ready"),
    K.EMAIL_SIGNUP_EXISTING: N_("Someone tried to sign up at eventsite with your address"),
    K.EMAIL_WAITLIST_JOINED: N_("Your place on the waiting list for %(title)s"),
    K.EMAIL_OFFER: N_("Tickets came back for you: %(title)s"),
    K.EMAIL_WAITLIST_CLOSED: N_("The waiting list for %(title)s has closed"),
}
# Messages to an organizer's address about their account (no order): the dashboard's login link.
_ACCOUNT_MESSAGES = (K.EMAIL_SIGNUP_WELCOME, K.EMAIL_SIGNUP_EXISTING)
_TICKETS_SENT = (K.EMAIL_PAID, K.EMAIL_LATE_PAID)
# Messages about a place on a waiting list, sent while the place is still as they say (joined: in line,
# or deferred by a waiting room until it sells out).
_PLACE_MESSAGES = {K.EMAIL_WAITLIST_JOINED: (WaitlistStatus.WAITING, WaitlistStatus.DEFERRED),
                   K.EMAIL_WAITLIST_CLOSED: (WaitlistStatus.CLOSED,)}
# Why an order was refunded, by the reason its refunding transition recorded.
# (The keys are what the transition recorded, a machine value; the reasons are English templates,
# translated into the buyer's language when the message is composed.)
_REFUND_REASONS = {
    "refunded by the organizer": N_("The organizer refunded your order."),
    "paid late with no capacity left": N_("Your payment arrived after your reservation had ended, and the tickets "
                                          "had gone to other buyers, so we gave your money back automatically."),
    "refunded at the payment provider": N_("Your payment was refunded at the payment provider."),
}
_REFUNDED_ANYHOW = N_("Your order was refunded.")


def send(obligation: Obligation) -> None:
    """The action of an email obligation: compose, end the read transaction, send."""
    message = compose(obligation)
    db.session.rollback()  # no transaction stays open across SMTP
    if message is not None:
        mail.send(message)


def compose(obligation: Obligation) -> mail.Message | None:
    """The message this obligation promises, as true now, in the language its reader asked in;
    None if there is nothing true to say."""
    with force_locale(_language(obligation)):
        return _compose(obligation)


def _language(obligation: Obligation) -> str:
    about = obligation.order or obligation.waitlist_entry or obligation
    return about.language


def _compose(obligation: Obligation) -> mail.Message | None:
    at, kind = now(), obligation.kind
    if kind == K.EMAIL_FIND_TICKETS:
        orders = lookups.orders_of(obligation.recipient, at=at)
        if not orders:  # the page said the same either way; an unknown address gets nothing
            return None
        return _message(obligation, obligation.recipient, SUBJECTS[kind], orders=orders, at=at,
                        order_link=lambda order: _order_link(order, at), order_label=lambda order: _label(order, at))
    if kind in _ACCOUNT_MESSAGES:
        return _message(obligation, obligation.recipient, SUBJECTS[kind], login_link=public_url("/dashboard/login"))
    if kind in _PLACE_MESSAGES:
        entry = obligation.waitlist_entry
        if entry.status not in _PLACE_MESSAGES[kind]:  # left, or served, since: the page tells the truth
            return None
        return _message(obligation, entry.email, SUBJECTS[kind], entry=entry,
                        event=entry.event, place_link=public_url(f"/w/{entry.token}"),
                        why_closed=why_closed(entry) if entry.status == WaitlistStatus.CLOSED else None,
                        event_link=public_url(f"/events/{entry.event.slug}"))
    order = obligation.order
    if not _still_true(kind, order, at):
        return None
    context = dict(order=order, event=order.event, links=links(order), tickets=tickets.tickets(order), at=at,
                   why=_refund_reason(order) if kind == K.EMAIL_REFUNDED else None)
    return _message(obligation, order.email, SUBJECTS[kind],
                    attachments=_attachments(kind, order, context["tickets"]), **context)


def _still_true(kind: ObligationKind, order: Order, at) -> bool:
    if kind in (K.EMAIL_HOLD_PLACED, K.EMAIL_OFFER):
        return holds_at(order, at)
    if kind in _TICKETS_SENT:
        return order.status == OrderStatus.CONFIRMED
    if kind == K.EMAIL_PAYMENT_FAILED:
        return effective_status(order, at) != OrderStatus.CONFIRMED
    return True


def _message(obligation: Obligation, to: str, subject: str, *, attachments=(), **context) -> mail.Message:
    template = f"email/{obligation.kind.value}"
    subject = gettext(subject, title=context["event"].title) if "event" in context else gettext(subject)
    context["qr_content_id"] = qr_content_id
    return mail.Message(
        to=to, subject=subject, text=render_template(f"{template}.txt", **context),
        html=render_template(f"{template}.html", subject=subject, **context), message_id=_message_id(obligation),
        attachments=tuple(attachments))


def _order_link(order: Order, at) -> str:
    held = effective_status(order, at) == OrderStatus.RESERVED
    return links(order)["hold" if held else "order"]


def _label(order: Order, at) -> str:
    """"2 tickets, paid: your tickets", in the message's language (each a whole phrase, for word order)."""
    n, status = order.quantity, effective_status(order, at)
    if status == OrderStatus.CONFIRMED:
        return ngettext("%(num)s ticket, paid: your tickets", "%(num)s tickets, paid: your tickets", n)
    if status == OrderStatus.REFUNDED:
        return ngettext("%(num)s ticket, refunded", "%(num)s tickets, refunded", n)
    if status == OrderStatus.PAYMENT_PROCESSING:
        return ngettext("%(num)s ticket, payment in progress", "%(num)s tickets, payment in progress", n)
    return ngettext("%(num)s ticket, reserved for you: pay before it ends",
                    "%(num)s tickets, reserved for you: pay before it ends", n)


def _attachments(kind: ObligationKind, order: Order, shown: list) -> list[mail.Attachment]:
    if kind not in _TICKETS_SENT:
        return []
    qr_codes = [mail.Attachment(f"ticket-{ticket.number}.png", tickets.qr_png(ticket.code), "image/png",
                                content_id=qr_content_id(ticket)) for ticket in shown]
    return [*qr_codes,
            mail.Attachment(f"{order.event.slug}.ics", calendar.event_ics(order), "text/calendar"),
            mail.Attachment(f"{order.event.slug}-tickets.pdf", ticket_pdf.tickets_pdf(order), "application/pdf")]


def qr_content_id(ticket) -> str:
    return f"qr-{ticket.code.lower()}@eventsite"


def _refund_reason(order: Order) -> str:
    refunded = next((row for row in reversed(order.history) if row.to_status == OrderStatus.REFUNDED.value), None)
    recorded = (refunded.reason if refunded else "").split(";")[0]
    return gettext(_REFUND_REASONS.get(recorded, _REFUNDED_ANYHOW))


def _message_id(obligation: Obligation) -> str:
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "eventsite.localhost"
    return f"<{current_app.config['JOB_ID_PREFIX']}.obligation-{obligation.id}@{host}>"


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def links(order: Order) -> dict[str, str]:
    """Absolute links into the shop for one order (each reachable only through its token)."""
    base = f"/r/{order.token}"
    return {"hold": public_url(base), "order": public_url(f"{base}/payment"),
            "tickets": public_url(f"{base}/tickets"), "pdf": public_url(f"{base}/tickets.pdf"),
            "calendar": public_url(f"{base}/calendar.ics"), "event": public_url(f"/events/{order.event.slug}")}


def request_ticket_links(email: str, *, language: str = "en") -> None:
    """"Find my tickets": promise one message listing this address's orders. Written the
    same whether or not there are any, so the answer tells nobody which addresses bought."""
    with write_transaction():
        promise_message(db.session, email.strip().lower(), language=language)
