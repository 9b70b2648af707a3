"""Every test of this folder runs twice: through LicenseKit and through AsyncLicenseKit."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _each_flavour(flavour: str) -> str:
    return flavour
