"""Installations and computer blocks: listing, deactivating, blocking."""

from __future__ import annotations

from licensekit._usecases._access import Access
from licensekit._usecases._context import Context
from licensekit._usecases._delivery import Delivery

__all__ = ["Installations"]


class Installations:
    """The use cases of this group (see :class:`licensekit.LicenseKit` for each one)."""

    def __init__(self, ctx: Context, access: Access, delivery: Delivery) -> None:
        self._ctx = ctx
        self._access = access
        self._delivery = delivery
