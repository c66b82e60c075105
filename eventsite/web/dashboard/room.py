"""The organizer's waiting room settings: switch the room on or off and set how it admits.

Its figures and report are part of the event page's live figures (``views._live``).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...services import waiting_room
from . import bp
from .forms import WaitingRoomForm
from .views import _event, _submit


def _form(event) -> WaitingRoomForm:
    """The room's settings as they are, or the defaults with the room on (setting one up)."""
    room = event.waiting_room
    return WaitingRoomForm(obj=room) if room is not None else WaitingRoomForm(enabled=True)


@bp.get("/events/<id:event_id>/room")
def room_form(event_id: int):
    event = _event(event_id)
    return render_template("dashboard/room.html", event=event, form=_form(event))


@bp.post("/events/<id:event_id>/room")
def room_settings(event_id: int):
    event = _event(event_id)
    form = _form(event)
    room, status = _submit(form, lambda: waiting_room.configure(event, form.values()))
    if room is None:
        return render_template("dashboard/room.html", event=event, form=form), status
    flash(_("The waiting room is on: buyers queue in it from its opening, and are let in as the stock allows.")
          if room.enabled else _("The waiting room is off: buyers reserve directly."))
    return redirect(url_for("dashboard.event", event_id=event_id))
