"""Worker processes: Celery tasks and the in-process worker that dispatch the outbox."""
