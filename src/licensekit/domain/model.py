"""The domain's values under one name: the stored records and the views handed to callers.

They are defined in :mod:`~licensekit.domain.records` and :mod:`~licensekit.domain.views`.

Stored records (:class:`User`, :class:`BusinessAccount`, :class:`Membership`,
:class:`JoinInvitation`, :class:`SessionRecord`, :class:`AuditEvent`, :class:`Throttle`,
:class:`LicenseKey`, :class:`InstallInvitation`, :class:`Installation`,
:class:`ComputerBlock`) are what a store keeps. Views (:class:`MemberView`,
:class:`JoinInvitationView`, :class:`Session`, :class:`UserView`, :class:`LicenseKeyView`,
:class:`InstallInvitationView`, :class:`InstallationView`) are what use cases hand back to
callers; they never carry a hash, ciphertext or password hash.
"""

from licensekit.domain.records import *  # noqa: F403
from licensekit.domain.records import __all__ as _records
from licensekit.domain.views import *  # noqa: F403
from licensekit.domain.views import __all__ as _views

__all__ = sorted([*_records, *_views])
