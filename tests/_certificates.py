"""Claims the certificate tests share: one installation's, issued at a fixed instant."""

from __future__ import annotations

import datetime as dt
from typing import Any

from licensekit.domain.certificates import CertificateClaims

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
"""When the shared claims were issued."""


def claims(**changes: Any) -> CertificateClaims:
    """The claims of installation ``ins_1`` on computer ``SN-0001``, issued at :data:`T0`."""
    fields: dict[str, Any] = {
        "installation_id": "ins_1",
        "computer_id": "SN-0001",
        "product": "Desktop Pro",
        "account_id": "acc_1",
        "license_key_id": "key_1",
        "issued_at": T0,
    }
    return CertificateClaims.leased(**(fields | changes))
