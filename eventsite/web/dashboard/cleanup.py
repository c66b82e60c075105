"""Deleting a draft event or a ticket type nobody used: GET shows what goes (or why it cannot),
POST deletes. Refused (409, the reason on the page, nothing changed) once anything refers to it."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...domain.errors import Conflict
from ...readmodels import lookups
from ...services import catalog
from . import bp
from .views import _event


def _confirm(what: str, event, ticket_type, refusal, delete):
    """The confirmation page; on POST with nothing in the way, ``delete()`` and go where it leads."""
    if request.method == "POST" and refusal is None:
        try:
            return delete()
        except Conflict as refused:  # something came in since the check: the locked one says so
            refusal = refused
    status = 409 if refusal is not None and request.method == "POST" else 200
    return render_template("dashboard/delete.html", what=what, event=event, ticket_type=ticket_type,
                           refusal=refusal), status


@bp.route("/events/<id:event_id>/delete", methods=["GET", "POST"])
def event_delete(event_id: int):
    event = _event(event_id)

    def delete():
        title = event.title
        catalog.delete_event(event)
        flash(_("“%(title)s” was deleted.", title=title))
        return redirect(url_for("dashboard.index"))

    return _confirm("event", event, None, catalog.event_deletion_refusal(event), delete)


@bp.route("/events/<id:event_id>/ticket-types/<id:ticket_type_id>/delete", methods=["GET", "POST"])
def ticket_type_delete(event_id: int, ticket_type_id: int):
    event = _event(event_id)
    ticket_type = lookups.owned_ticket_type(event, ticket_type_id)

    def delete():
        name = ticket_type.name
        catalog.delete_ticket_type(ticket_type)
        flash(_("Ticket type “%(name)s” was deleted.", name=name))
        return redirect(url_for("dashboard.event", event_id=event_id))

    return _confirm("ticket type", event, ticket_type, catalog.ticket_type_deletion_refusal(ticket_type), delete)
