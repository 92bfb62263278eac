"""`python -m monitoring.soak`: reliability figures (make soak, docs/reliability.md)."""

from monitoring.soak.run import main

main()
