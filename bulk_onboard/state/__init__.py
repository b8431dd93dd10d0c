"""What outlives a run against a portal, and where it is kept (store.py)."""
