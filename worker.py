"""RQ worker entry point; the payments/background issue fills this in."""
