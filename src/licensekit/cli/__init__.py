"""The ``licensekit`` command-line tool: license administration over a SQLite file.

Installed as the ``licensekit`` console script; also runs as ``python -m licensekit.cli``.
See ``docs/cli.md`` for the commands. The library never imports this package.
"""

from licensekit.cli._main import main

__all__ = ["main"]
