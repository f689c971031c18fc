"""``python -m homegym.cli``: what the installed ``homegym`` command runs."""

import sys

from . import main

sys.exit(main())
