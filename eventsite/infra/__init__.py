"""Infrastructure: settings, the database and its transactions, Redis, the job queue.

Imports nothing of eventsite beyond infra itself."""
