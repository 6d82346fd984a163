"""``python -m ufm.verify``."""

import sys

from ufm.verify.cli import main

sys.exit(main())
