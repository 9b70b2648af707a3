"""What importing a part of licensekit loads: only what that part needs.

A host that imports one light module (the exceptions to catch, the records, the storage port
to write an adapter against, the pure rules) must not pay for email validation, password
hashing or SQLite; nor must ``import licensekit`` itself, whose names load on first use.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import licensekit

HEAVY = ("email_validator", "sqlite3", "cryptography.hazmat.primitives.kdf.argon2", "cattrs")


def _loaded_after(statement: str) -> set[str]:
    probe = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    ran = subprocess.run(  # noqa: S603 - our own interpreter, our own statements
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(ran.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import licensekit",
        "import licensekit.exceptions",
        "import licensekit.model",
        "import licensekit.storage",
        "import licensekit.roles, licensekit.members, licensekit.licensing",
        "import licensekit.throttling",
        "from licensekit import LicenseKitError, Role, Page",
    ],
)
def test_a_light_import_loads_no_heavy_dependency(statement: str) -> None:
    loaded = _loaded_after(statement)
    assert not [m for m in HEAVY if m in loaded], f"{statement} loaded {sorted(loaded)}"


def test_email_validation_is_loaded_when_the_first_address_is_read() -> None:
    # A process that only activates and checks in (the installer's server) never reads an
    # address, so reaching LicenseKit and activating leave email-validator unloaded.
    activating = (
        "from licensekit import LicenseKit, MemoryStore\n"
        "from licensekit.codes import new_activation_code\n"
        "from licensekit.testing import RecordingMailer\n"
        "kit = LicenseKit(MemoryStore(), RecordingMailer(), secret=b'k' * 32,"
        " join_url='https://example.com/join?token={token}')\n"
        "try:\n"
        "    kit.activate(code=new_activation_code(), computer_id='pc')\n"
        "except Exception as e:\n"
        "    print(type(e).__name__)\n"
    )
    loaded = _loaded_after(activating)
    assert "ActivationCodeNotFound" in loaded, "the activation did not reach the store"
    assert "email_validator" not in loaded, "activating loaded email-validator"
    assert "cattrs" not in loaded
    reading = "from licensekit.emails import normalize_email\nnormalize_email('ann@example.com')"
    assert "email_validator" in _loaded_after(reading)


def test_csv_urls_and_the_memory_store_wait_for_their_first_use() -> None:
    # Every LicenseKit loads licensekit.emails and licensekit.stores; what only reading a
    # CSV, a PostgreSQL URI or the memory store needs comes with its first use.
    later = {"csv", "urllib.parse", "licensekit.stores.memory"}
    assert not later & _loaded_after("import licensekit\nlicensekit.LicenseKit")
    reading = "from licensekit.emails import parse_email_csv\nparse_email_csv('ann@example.com')"
    assert "csv" in _loaded_after(reading)
    assert "licensekit.stores.memory" in _loaded_after("from licensekit.stores import MemoryStore")


def test_sqlite_is_loaded_only_with_the_sqlite_store() -> None:
    assert "sqlite3" not in _loaded_after("from licensekit import LicenseKit, MemoryStore")
    assert "sqlite3" in _loaded_after("from licensekit import SQLiteStore")


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in licensekit.__all__:
        assert getattr(licensekit, name) is not None
    assert set(licensekit.__all__) <= set(dir(licensekit))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        licensekit.nothing_here  # noqa: B018 - the look-up is what is tested


# == the layers' rules, read from the source ===================================================

SRC = Path(licensekit.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module *path* imports, at any depth of the file (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((SRC / "domain").glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_only_itself_and_the_exceptions(path: Path) -> None:
    allowed_roots = {*sys.stdlib_module_names, "attrs", "attr"}
    for module in _imports(path):
        root = module.split(".")[0]
        if root == "licensekit":
            assert module.startswith(("licensekit.domain", "licensekit.exceptions")), (
                f"{path.name} imports {module}"
            )
        else:
            assert root in allowed_roots, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", sorted((SRC / "stores").rglob("*.py")), ids=lambda p: p.name)
def test_stores_do_not_import_use_cases(path: Path) -> None:
    for module in _imports(path):
        assert not module.startswith(("licensekit._usecases", "licensekit.service")), (
            f"{path.name} imports {module}"
        )


# == the verifier an installed product ships ===================================================

VERIFIER_MAY_LOAD = {
    "licensekit",
    "licensekit._account_errors",  # licensekit.exceptions' parts
    "licensekit._error_base",
    "licensekit._licensing_errors",
    "licensekit.domain",
    "licensekit.domain._echo",
    "licensekit.exceptions",
    "licensekit.verifier",
}


def test_the_verifier_loads_cryptography_and_nothing_else_of_weight() -> None:
    """A product importing the verifier and checking a certificate, in a fresh interpreter,
    loads neither attrs nor cattrs, email-validator, Argon2, sqlite3 nor licensekit's rest."""
    import datetime as dt

    from licensekit.domain.certificates import CertificateClaims
    from licensekit.signing import Ed25519Signer, issue_certificate

    signer = Ed25519Signer.generate()
    claims = CertificateClaims.leased(
        installation_id="ins_1",
        computer_id="pc",
        product="P",
        account_id="acc_1",
        license_key_id="key_1",
        issued_at=dt.datetime.now(dt.UTC),
    )
    keys = {k: v.hex() for k, v in signer.public_keys().items()}
    verifying = (
        "from licensekit.verifier import verify_certificate\n"
        f"keys = {{k: bytes.fromhex(v) for k, v in {keys!r}.items()}}\n"
        f"print(verify_certificate({issue_certificate(signer, claims)!r}, keys,"
        " computer_id='pc').license_state)\n"
    )
    loaded = _loaded_after(verifying)
    assert "active" in loaded, "the certificate was not verified"
    assert not [m for m in (*HEAVY, "attr", "attrs") if m in loaded], sorted(loaded)
    assert {m for m in loaded if m.startswith("licensekit")} <= VERIFIER_MAY_LOAD
    assert "cryptography.hazmat.primitives.asymmetric.ed25519" in loaded


def test_the_verifier_imports_only_the_standard_library_cryptography_and_the_exceptions() -> None:
    for module in _imports(SRC / "verifier.py"):
        root = module.split(".")[0]
        assert (
            root in sys.stdlib_module_names
            or root == "cryptography"
            or (module.startswith("licensekit.exceptions"))
        ), module
