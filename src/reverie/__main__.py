"""``python -m reverie``: the same as the ``reverie`` command."""

import sys

from reverie._cli import main

sys.exit(main())
