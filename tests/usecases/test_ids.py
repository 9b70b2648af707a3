"""Record ids: ordered by creation in a process, unique across threads and forked processes.

The ids' random tails come from the operating system a batch at a time; these tests check
what that must not change: no two ids alike, in threads or in a child forked with a batch
half used, and ids made later sort later.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import threading
import weakref

import pytest

from licensekit._ids import IdFactory

NOW = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)


def test_ids_sort_in_the_order_they_were_made_even_in_one_millisecond() -> None:
    factory = IdFactory()
    made = [factory.new("usr", NOW) for _ in range(1000)]
    made.append(factory.new("usr", NOW + dt.timedelta(milliseconds=1)))
    made.append(factory.new("usr", NOW))  # a clock that went back still sorts after
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_threads_never_get_the_same_id() -> None:
    factory = IdFactory()
    made: list[list[str]] = []

    def make() -> None:
        made.append([factory.new("evt", NOW) for _ in range(2000)])

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in made for i in ids]
    assert len(every) == len(set(every)) == 16000


def test_a_forked_child_does_not_repeat_its_parents_random_tails() -> None:
    factory = IdFactory()
    factory.new("ins", NOW)  # the batch of tails is now half used in the parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        tails = ",".join(factory.new("ins", NOW)[-10:] for _ in range(300))
        os.write(write, tails.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    parent = {factory.new("ins", NOW)[-10:] for _ in range(300)}
    assert len(child) == 300
    assert not child & parent


def test_a_factory_needs_no_fork_hook_and_is_not_kept_alive_by_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gone = weakref.ref(IdFactory())
    gc.collect()
    assert gone() is None, "the fork hook keeps every factory alive"
    monkeypatch.delattr(os, "register_at_fork")  # as on Windows
    assert IdFactory().new("usr", NOW).startswith("usr_")
