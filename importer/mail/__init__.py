"""The completion e-mail: composed, queued with the job's end, delivered."""
