"""Buyer pages: event list, event page, availability fragment, reservation page."""
from flask import Blueprint

bp = Blueprint("shop", __name__)
