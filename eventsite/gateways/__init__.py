"""Doors to other systems (Stripe). Used by services only."""
