"""The facades load their use cases on first use, and nothing about them shows it.

Reaching :class:`licensekit.LicenseKit` (or :class:`licensekit.aio.AsyncLicenseKit`) imports no
group of use cases, no records, attrs, cryptography nor typing; constructing a kit imports its
context (and still refuses bad arguments at once); the first call of a method imports its
group. Signatures, docstrings and type hints are those of the groups' methods, whether looked
up before or after, and threads racing to a group's first call share one group.
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import threading
import time
import typing

import pytest

import licensekit
import licensekit.service
from licensekit import LicenseKit, MemoryStore, ValidationError
from licensekit._deferred import Deferred, deferred, made_on_first_use
from licensekit._usecases.activation import Activation
from licensekit.aio import AsyncLicenseKit
from licensekit.testing import RecordingMailer

SECRET = b"k" * 32
JOIN = "https://example.com/join?token={token}"
REACHING = {
    "import licensekit; licensekit.LicenseKit": {
        "licensekit",
        "licensekit._deferred",
        "licensekit._usecases",
        "licensekit._usecases._delegation",
        "licensekit.service",
    },
    "import licensekit.aio; licensekit.aio.AsyncLicenseKit": {
        "licensekit",
        "licensekit._deferred",
        "licensekit.aio",
        "licensekit.aio._kit",
        "licensekit.aio._usecases",
        "licensekit.aio._usecases._delegation",
    },
}
MAKE_KIT = (
    "import licensekit\n"
    "from licensekit.testing import RecordingMailer\n"
    f"kit = licensekit.LicenseKit(licensekit.MemoryStore(), RecordingMailer(), secret={SECRET!r},"
    f" join_url={JOIN!r})\n"
)


def _run(code: str) -> str:
    ran = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return ran.stdout


def _loaded_after(statement: str) -> set[str]:
    return set(_run(f"import sys\n{statement}\nprint('\\n'.join(sys.modules))").split())


@pytest.mark.parametrize("statement", sorted(REACHING))
def test_reaching_a_facade_loads_only_the_facade(statement: str) -> None:
    loaded = _loaded_after(statement)
    assert {m for m in loaded if m.startswith("licensekit")} == REACHING[statement]
    heavy = {"typing", "attr", "attrs", "cryptography", "email_validator", "sqlite3", "asyncio"}
    assert not {m.split(".")[0] for m in loaded} & heavy, sorted(loaded)


def test_a_kit_imports_a_group_of_use_cases_at_the_first_call_of_one_of_its_methods() -> None:
    probe = (
        MAKE_KIT + "import sys\n"
        "def groups():\n"
        "    names = [m.rsplit('.', 1)[1] for m in sys.modules\n"
        "             if m.startswith('licensekit._usecases.')]\n"
        "    return sorted(n for n in names if not n.startswith('_'))\n"
        "print(groups())\n"
        "try:\n"
        "    kit.check_in('no-such-token')\n"
        "except licensekit.LicenseKitError as e:\n"
        "    print(type(e).__name__)\n"
        "print(groups())\n"
    )
    made, refused, called = _run(probe).splitlines()
    assert made == "[]"
    assert refused == "InstallationNotFound"
    assert called == "['activation']"


@pytest.mark.parametrize("facade", [LicenseKit, AsyncLicenseKit], ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"secret": b"short"}, None),
        ({"join_url": "https://example.com/join"}, "join_url"),
        ({"download_url": "https://example.com/get?t={token}&again={token}"}, "download_url"),
        ({"store": object()}, "store"),
        ({"templates": "English"}, "templates"),
        ({"signer": object()}, "signer"),
    ],
)
def test_bad_arguments_are_refused_at_construction_not_at_first_use(
    facade: type, arguments: dict[str, object], field: str | None
) -> None:
    given: dict[str, object] = {"secret": SECRET, "join_url": JOIN, **arguments}
    store = given.pop("store", MemoryStore())
    with pytest.raises(ValidationError) as refused:
        facade(store, RecordingMailer(), **given)
    if field is not None:
        assert refused.value.field == field


def test_an_incompatible_store_is_refused_at_construction() -> None:
    class NoPort:
        def transaction(self) -> object:
            raise AssertionError("never opened: the store is judged by its operations")

    with pytest.raises(licensekit.IncompatibleStore):
        LicenseKit(NoPort(), RecordingMailer(), secret=SECRET, join_url=JOIN)  # type: ignore[arg-type]


def test_methods_show_their_groups_signature_and_docstring_before_any_kit_exists() -> None:
    probe = (
        "import inspect, licensekit, typing\n"
        "from licensekit._usecases.users import Users\n"
        "method = licensekit.LicenseKit.log_in\n"
        "assert inspect.signature(method) == inspect.signature(Users.log_in)\n"
        "assert method.__doc__ == Users.log_in.__doc__\n"
        "assert typing.get_type_hints(method) == typing.get_type_hints(Users.log_in)\n"
        "assert typing.get_type_hints(licensekit.LicenseKit.__init__)['settings']"
        " == typing.Optional[licensekit.Settings]\n"
        "print(inspect.signature(licensekit.LicenseKit))\n"
    )
    signature = _run(probe).strip()
    assert signature.startswith("(store: 'Store | str | os.PathLike[str]', mailer: 'Mailer', *,")


def test_help_shows_every_method_with_its_documentation() -> None:
    shown = _run(
        "import licensekit, pydoc\n"
        "print(pydoc.render_doc(licensekit.LicenseKit, renderer=pydoc.plaintext))"
    )
    assert "log_in(self, email: 'str', password: 'str') -> 'Session'" in shown
    assert "Check an email and password and return a new session." in shown
    assert "check_in(self, installation_token: 'str', *, client: 'str' = '')" in shown
    assert "<method" not in shown
    assert "deferred" not in shown


def test_a_method_looked_up_once_is_a_plain_function_of_the_class() -> None:
    method = LicenseKit.activate
    assert inspect.isfunction(method)
    assert vars(LicenseKit)["activate"] is method
    assert method.__wrapped__ is Activation.activate
    assert inspect.isfunction(LicenseKit.__init__)  # looked up on the class: names bound
    assert inspect.isfunction(vars(LicenseKit)["__init__"])


def test_making_a_kit_binds_its_annotations_names_without_importing_for_them() -> None:
    probe = (
        MAKE_KIT.replace("from licensekit.testing import RecordingMailer\n", "")
        .replace("RecordingMailer()", "Mailer()")
        .replace("kit = ", "class Mailer:\n    def send(self, message): pass\nkit = ")
        + "import sys, typing\n"
        "print('licensekit.mail' in sys.modules)\n"
        "hints = typing.get_type_hints(licensekit.LicenseKit.__init__)\n"
        "print(hints['mailer'] is sys.modules['licensekit.mail'].Mailer)\n"
        "print(type(vars(licensekit.LicenseKit)['__init__']).__name__)\n"
    )
    assert _run(probe).split() == ["False", "True", "function"]


def test_the_values_are_exported_by_the_facade_module_on_first_look_up() -> None:
    from licensekit import _results
    from licensekit.service import Settings

    assert Settings is _results.Settings is licensekit.Settings
    assert licensekit.service.EXPIRY_PRESETS is _results.EXPIRY_PRESETS
    assert set(licensekit.service.__all__) <= set(dir(licensekit.service))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        licensekit.service.nothing_here  # type: ignore[attr-defined]  # noqa: B018 - the look-up is tested


def test_threads_making_a_group_at_once_all_get_the_same_one() -> None:
    kit = LicenseKit(MemoryStore(), RecordingMailer(), secret=SECRET, join_url=JOIN)
    start = threading.Barrier(8)
    seen: list[object] = []
    outcomes: list[str] = []

    def first_call() -> None:
        start.wait()
        seen.append(kit._activation)
        try:
            kit.check_in("no-such-token")
        except licensekit.InstallationNotFound as e:
            outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["InstallationNotFound"] * 8
    assert len({id(group) for group in seen}) == 1
    assert seen[0] is kit._activation
    assert kit._users._access is kit._accounts._access  # the parts they share, shared


def test_a_part_made_by_racing_threads_is_the_first_one_stored() -> None:
    made: list[object] = []

    class Holder:
        @made_on_first_use
        def part(self) -> object:
            time.sleep(0.01)  # long enough for every thread to start making one
            made.append(object())
            return made[-1]

    holder = Holder()
    start = threading.Barrier(6)
    seen: list[object] = []

    def read() -> None:
        start.wait()
        seen.append(holder.part)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) >= 1
    assert {id(part) for part in seen} == {id(holder.part)}
    assert holder.part in made


def test_a_replaced_part_is_what_later_calls_use() -> None:
    kit = LicenseKit(MemoryStore(), RecordingMailer(), secret=SECRET, join_url=JOIN)
    kit._activation = Activation(kit._ctx)
    replaced = kit._activation
    with pytest.raises(licensekit.InstallationNotFound):
        kit.check_in("no-such-token")
    assert kit._activation is replaced


def test_async_kits_make_their_groups_on_first_use_too() -> None:
    async def main() -> str:
        async with AsyncLicenseKit(
            MemoryStore(), RecordingMailer(), secret=SECRET, join_url=JOIN
        ) as kit:
            assert "_activation" not in vars(kit)
            with pytest.raises(licensekit.InstallationNotFound):
                await kit.check_in("no-such-token")
            assert "_activation" in vars(kit)
            return type(kit._activation).__module__

    assert asyncio.run(main()) == "licensekit.aio._usecases.activation"


def test_a_deferred_name_imports_its_module_when_used() -> None:
    (module_name,) = deferred("json", "dumps")
    assert repr(module_name) == "<deferred json.dumps>"
    assert repr(module_name.some_member) == "<deferred json.dumps.some_member>"
    assert module_name([1]) == "[1]"
    (missing,) = deferred("licensekit", "nothing_here")
    with pytest.raises(AttributeError):
        missing.resolve()
    with pytest.raises(AttributeError):
        Deferred("json", "dumps").__wrapped__  # noqa: B018 - probes like inspect's must fail


def test_type_hints_of_the_facade_name_the_real_classes() -> None:
    hints = typing.get_type_hints(LicenseKit.__init__)
    assert hints["mailer"] is licensekit.Mailer
    assert typing.get_type_hints(LicenseKit.settings.fget)["return"] is licensekit.Settings  # type: ignore[attr-defined]
