"""Shared fixtures. The licensekit pytest plug-in is loaded here rather than through its entry
point (disabled in pyproject.toml) so that coverage measures licensekit from its first import."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["licensekit.testing.plugin"]

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
