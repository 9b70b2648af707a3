"""``python -m licensekit``: the same command line as the ``licensekit`` script."""

import sys

from licensekit.cli import main

if __name__ == "__main__":
    sys.exit(main())
