"""Additional keys (issue 18): activating through a dynamic additional key.

An activation through a dynamic additional key does what one through a plain key does, plus
what the shared pool costs: its primary is locked and read, and its seat is claimed with the
guarded counter on both keys. The floor here is licensekit itself activating through a plain
key, on the same file settings, the same number of computers: the ratio is the pool's price
(target: at most 1.2).
"""

from __future__ import annotations

from pathlib import Path

from _harness import (
    Result,
    addresses,
    licensing,
    new_kit,
    per_item,
    sqlite_store,
    tempfile_dir,
    timed,
)

from licensekit import LicenseKit


def _codes(
    path: Path, count: int, synchronous: str, *, dynamic: bool
) -> tuple[LicenseKit, list[str]]:
    """A kit on *path* with *count* invitations under a plain key or a dynamic key of one."""
    bench = licensing(new_kit(sqlite_store(path, synchronous), count), count)
    key_id = bench.key_id
    if dynamic:
        key_id = bench.kit.add_additional_key(
            bench.admin,
            bench.account_id,
            bench.key_id,
            value="BENCH-DYNAMIC-0001",
            seats=count,
            seat_pool="dynamic",
        ).id
    bench.kit.invite_installers(bench.admin, bench.account_id, key_id, addresses(count))
    return bench.kit, [m.data["code"] for m in bench.mailer.messages()]


def _activations(count: int, synchronous: str, *, dynamic: bool) -> float:
    with tempfile_dir() as folder:
        kit, codes = _codes(folder / "pool.db", count, synchronous, dynamic=dynamic)

        def work() -> None:
            for n, code in enumerate(codes):
                kit.activate(code=code, computer_id=f"computer-{n}")

        spent = timed(work)
        kit.close()
        return spent


def dynamic_activation(count: int, repeat: int, synchronous: str) -> Result:
    """Activations through a dynamic additional key, beside the same through a plain key."""
    return per_item(
        f"pool_activation_sqlite_{synchronous}",
        f"{count:,} activations via a dynamic additional key, SQLite ({synchronous}), each",
        count,
        lambda: _activations(count, synchronous, dynamic=True),
        lambda: _activations(count, synchronous, dynamic=False),
        repeat,
        target=1.2,
    )
