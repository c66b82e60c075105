"""Domain errors: each carries a machine-readable code, a message for people and an HTTP status.

A message is English, written as a template with named values: ``InvalidRequest(N_("At most
%(limit)s tickets."), limit=4)``. The API answers ``message`` (the English text); pages translate
``template`` into the reader's language and fill in ``params`` (``web.i18n.said``).
"""
from __future__ import annotations

import enum
from datetime import datetime


def N_(message: str) -> str:
    """Marks a message for the translation catalog (``make translations``); it is translated where shown."""
    return message


def _shown(value):
    """A status among the values reads as a word ("payment processing"); pages translate it (``web.i18n``)."""
    return value.value.replace("_", " ") if isinstance(value, enum.Enum) else value


class DomainError(Exception):
    code = "invalid"
    http_status = 422

    def __init__(self, message: str, *, field: str | None = None, **params):
        self.template, self.params = message, params
        self.message = message % {name: _shown(value) for name, value in params.items()} if params else message
        super().__init__(self.message)
        self.field = field


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class InvalidRequest(DomainError):
    code = "invalid"
    http_status = 422


class SalesClosed(DomainError):
    code = "sales_closed"
    http_status = 409


class SoldOut(DomainError):
    code = "sold_out"
    http_status = 409


class AllReserved(SoldOut):
    """Sold out for now, but enough is held by others and may come back (``ticket_type_id``'s)."""

    code = "all_reserved"
    http_status = 409

    def __init__(self, message: str, *, retry_at: datetime | None, field: str | None = None,
                 ticket_type_id: int | None = None, **params):
        super().__init__(message, field=field, **params)
        self.retry_at, self.ticket_type_id = retry_at, ticket_type_id


class LineFirst(SoldOut):
    """Tickets came back, but people on the waiting list get them first."""

    code = "waiting_list"


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class HoldExpired(Conflict):
    """The hold lapsed: nothing to release or pay any more."""

    code = "hold_expired"


class NotReserved(Conflict):
    """The order is past the reserved state (paying, paid, ended)."""

    code = "not_reserved"


class IllegalTransition(Conflict):
    """A status change the state machine forbids; nothing was changed."""

    def __init__(self, current, to):
        self.current, self.to = current, to
        super().__init__(N_("An order that is %(current)s cannot become %(to)s."),
                         current=current or "new", to=to)


class PaymentProviderError(DomainError):
    """Stripe (or the dev server) refused or could not be reached; nothing was changed here."""

    code = "payment_provider_error"
    http_status = 502


# --- anti-hoarding (issue 13): refused before anything is written ---------------

class AlreadyReserved(Conflict):
    """One live hold per buyer (email) and event; ``token`` names the hold they have.
    The token is the key to that hold: show it only to whoever already holds it."""

    code = "already_reserved"

    def __init__(self, message: str, *, token: str, field: str | None = None, **params):
        super().__init__(message, field=field, **params)
        self.token = token


class TooManyRequests(DomainError):
    """A limit against hoarding; ``retry_at``, when known, is when trying again can succeed."""

    code = "too_many_requests"
    http_status = 429

    def __init__(self, message: str, *, retry_at: datetime | None = None, field: str | None = None, **params):
        super().__init__(message, field=field, **params)
        self.retry_at = retry_at


class TooManyHolds(TooManyRequests):
    """The event's cap of live holds per client address is reached."""

    code = "too_many_holds"


class ReleaseCooldown(TooManyRequests):
    """The buyer released a hold of this event a moment ago."""

    code = "release_cooldown"


# --- the waiting room (issue 16) ------------------------------------------------

class AdmissionRequired(DomainError):
    """The event's waiting room is open: holds are placed only with an admission from it."""

    code = "admission_required"
    http_status = 403


class AdmissionRefused(AdmissionRequired):
    """An admission that is forged, expired, for another event or already used."""

    code = "admission_invalid"
