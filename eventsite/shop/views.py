"""Buyer routes."""
from flask import render_template
from sqlalchemy import select

from ..extensions import db
from ..models import Event
from . import bp


@bp.get("/")
def index():
    events = db.session.scalars(select(Event).where(Event.published.is_(True)).order_by(Event.starts_at))
    return render_template("shop/index.html", events=list(events))
