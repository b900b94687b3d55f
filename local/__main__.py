"""`python -m local` starts the local stack (same as `python -m local.stack`)."""

import sys

from local.stack import main

sys.exit(main())
