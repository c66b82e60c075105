"""RQ workers that run each job inside the Flask app context.

    rq worker -w worker.AppWorker --with-scheduler default mail cleanup

(--with-scheduler runs RQ's own scheduler in the worker: it starts the
per-order expiry jobs at their time and the retries after their backoff.)
Jobs are the functions of ``eventsite.tasks``.
"""
from __future__ import annotations

from rq import SimpleWorker, Worker

from eventsite import create_app
from eventsite.infra.db import db
from eventsite.services import expiry


class AppContextMixin:
    def __init__(self, *args, app=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app or create_app()
        with self.app.app_context():
            expiry.ensure_sweep()  # after Redis lost its data, the first worker back brings the sweep back

    def perform_job(self, job, queue, *args, **kwargs):
        with self.app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()

    def run_maintenance_tasks(self):
        """Every --maintenance-interval: RQ's own upkeep (it restarts a scheduler that died on a
        Redis error), and the sweep registered again if Redis lost it."""
        super().run_maintenance_tasks()
        with self.app.app_context():
            expiry.ensure_sweep()
            db.session.remove()


    def unsubscribe(self):
        """RQ's own stops the pubsub thread with redis-py's stop(), which since redis 8.2 waits
        for the thread: up to RQ's 60 s poll when it was still waiting to be subscribed. A
        worker told to stop (Ctrl-C, SIGTERM) would hang that long; wait 1 s as RQ meant to."""
        if self.pubsub_thread:
            self.pubsub.unsubscribe()
            self.pubsub_thread.stop(timeout=1)
            self.pubsub.close()


class AppWorker(AppContextMixin, Worker):
    """Forks a work horse per job (production)."""

    def perform_job(self, job, queue, *args, **kwargs):
        # The horse is a fresh fork: never share the parent's pooled connections.
        with self.app.app_context():
            db.engine.dispose(close=False)
        return super().perform_job(job, queue, *args, **kwargs)


class SimpleAppWorker(AppContextMixin, SimpleWorker):
    """Runs jobs in its own process (tests, debugging)."""
