"""Run the command-line tool: ``python -m licensekit.cli``."""

import sys

from licensekit.cli import main

if __name__ == "__main__":
    sys.exit(main())
