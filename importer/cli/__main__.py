"""`python -m importer.cli ARGS`: the `importer` command, for a checkout without the entry point."""

import sys

from importer.cli.main import main

sys.exit(main())
