"""State: the lock file (what ftops manages, crash-consistent) and the run lock (one apply at a time)."""
