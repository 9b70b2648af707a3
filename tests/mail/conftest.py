"""Fixtures of the mail tests: real SMTP servers on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from _smtp_server import SMTPServer, StartServer


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start SMTP servers for one test; every one is stopped when the test ends."""
    with contextlib.ExitStack() as stack:

        def start(**kwargs: Any) -> SMTPServer:
            return stack.enter_context(SMTPServer(**kwargs))

        yield start
