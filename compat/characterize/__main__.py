"""``python -m compat.characterize``: see :mod:`compat.characterize.cli`."""

import sys

from compat.characterize.cli import main

sys.exit(main())
