"""Sphinx configuration of the licensekit documentation: MyST Markdown pages, furo, autodoc.

Build it with warnings as errors, as CI does::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import functools
import importlib
import inspect
import pkgutil
import re
from importlib.metadata import version as _installed_version

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

project = "licensekit"
author = "The licensekit developers"
copyright = "the licensekit developers"
release = _installed_version("licensekit-admin")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

root_doc = "index"
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: ::: fences for admonitions, definition lists, and anchors on headings so that pages
# can link to each other's sections.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: Google-style docstrings, type hints in the descriptions rather than in the
# signatures (the signatures of the use cases are long), members in source order.
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# Cross-references to the standard library stay plain text: the build must work offline, so
# there is no intersphinx, and therefore no nitpicky mode either.
nitpicky = False

html_theme = "furo"
html_title = f"licensekit {release}"
html_static_path: list[str] = []


# -- the table of top-level names -----------------------------------------------------------
# ``.. licensekit-names::`` lists every name of ``licensekit.__all__`` with a link to where it
# is documented (the public module that defines it) and the first paragraph of its docstring,
# so the table follows the package instead of being kept by hand.


def _public_modules() -> list[str]:
    import licensekit

    return [
        info.name
        for info in pkgutil.walk_packages(licensekit.__path__, "licensekit.")
        if not any(part.startswith("_") for part in info.name.split("."))
        and not info.name.startswith(("licensekit.cli", "licensekit.locales."))
        and not info.name.endswith(".plugin")
    ]


def _home(name: str, obj: object, modules: list[str]) -> str:
    """Return the public module under which the API reference documents *obj*."""
    homes = [
        module
        for module in modules
        if name in getattr(importlib.import_module(module), "__all__", ())
        and getattr(importlib.import_module(module), name) is obj
    ]
    defined_in = getattr(obj, "__module__", "")
    return defined_in if defined_in in homes else homes[0]


_ROLE = re.compile(r":(?:py:)?(\w+):`(~?)([^`<]+)`")


def _qualified(role: re.Match[str], home: str) -> str:
    """Make a docstring's cross-reference, relative to *home*, work from any page."""
    kind, _, target = role.groups()
    if target.startswith("licensekit"):
        return role.group(0)
    title = target + ("()" if kind in ("meth", "func") else "")
    return f":py:{kind}:`{title} <{home}.{target}>`"


class TopLevelNames(SphinxDirective):
    """Render the table of ``licensekit.__all__``."""

    def run(self) -> list[nodes.Node]:
        import licensekit

        modules = _public_modules()
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 35 65",
            "",
            "   * - Name",
            "     - Summary",
        ]
        for name in licensekit.__all__:
            obj = getattr(licensekit, name)
            home = _home(name, obj, modules)
            summary = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
            lines += [
                f"   * - :py:obj:`{name} <{home}.{name}>`",
                f"     - {_ROLE.sub(functools.partial(_qualified, home=home), summary)}",
            ]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="licensekit.__all__"), 0, container)
        return container.children


def setup(app: Sphinx) -> None:
    app.add_directive("licensekit-names", TopLevelNames)
