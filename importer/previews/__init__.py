"""Review before import: a stored upload planned against a wheel (plan.py, off the event loop in
runner.py), kept with the person's choices until it is imported or expires (store.py)."""
