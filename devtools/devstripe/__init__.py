"""A small Stripe-compatible server for development and tests (no network beyond this machine).
A developer tool, not imported by the app: the app talks to it over HTTP, as it would to Stripe.

It speaks the parts of Stripe's API the app uses (checkout sessions: create,
retrieve, expire; refunds), form-encoded in and Stripe-shaped JSON out, with
idempotency-key replay; serves a hosted checkout page where a person can pay,
pay by a delayed bank debit, be declined, or walk away; and delivers signed
webhooks, retrying with backoff while the app answers non-2xx. Its state lives in a
SQLite file, so a restarted server still knows earlier sessions, payments and keys.
"""
from .server import create_app, start_devstripe, stop_devstripe

__all__ = ["create_app", "start_devstripe", "stop_devstripe"]
