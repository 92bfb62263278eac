"""`python -m monitoring.loadtest`: many voice sessions at once against a running server."""

import sys

from monitoring.loadtest.run import main

sys.exit(main())
