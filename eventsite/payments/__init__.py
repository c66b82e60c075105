"""Stripe Checkout: the gateway, the webhook, the payment pages and the dev server."""
from flask import Blueprint

bp = Blueprint("payments", __name__)
