"""``python -m workbench`` runs the command line (the same as the ``workbench`` script)."""

import sys

from workbench.cli import main

sys.exit(main())
