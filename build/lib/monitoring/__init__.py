"""Performance monitor, benchmark and (later) load tester."""
