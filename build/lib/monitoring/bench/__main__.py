"""`python -m monitoring.bench`: voice-to-voice latency, barge-in and false cut-offs (make bench)."""

import sys

from monitoring.bench.voice import main

sys.exit(main())
