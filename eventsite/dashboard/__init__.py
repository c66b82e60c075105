"""Organizer pages: accounts, events, ticket types, live figures, orders, refunds, exports."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)
