"""The use cases, async: the one source of :mod:`licensekit._usecases`.

Each module here is the source of the synchronous module of the same name in
:mod:`licensekit._usecases`, which ``scripts/unasync.py`` generates from it (``await``,
``async`` and the ``Async`` prefix removed); edit these, then run the script. The rules of
the layer are written in :mod:`licensekit._usecases`. Modules without I/O (checks, scopes)
are not repeated here: both flavours import them from :mod:`licensekit._usecases`.
"""
