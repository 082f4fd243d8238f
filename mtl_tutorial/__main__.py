"""``python -m mtl_tutorial ...``: the command-line tool, as ``mtl-tutorial ...``."""

import sys

from .cli import main

sys.exit(main())
