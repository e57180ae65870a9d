"""The import job's owner, the Procrastinate app and its tasks, recovery, retention, the worker."""
