"""The keys that sign certificates (licensekit.signing): a key file only its owner may read,
rotation that keeps old certificates verifying until their key is dropped, and refusals of
a file that is missing, too open or damaged."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import stat
from pathlib import Path

import pytest

from _certificates import T0, claims
from licensekit import signing
from licensekit.exceptions import CertificateKeyUnknown, SigningKeyError, ValidationError
from licensekit.signing import (
    KEY_FILE_FORMAT,
    Ed25519Signer,
    KeyFileSigner,
    KeyState,
    issue_certificate,
)
from licensekit.verifier import verify_certificate

CLAIMS = claims()
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def verified_by(text: str, signer: KeyFileSigner) -> str:
    """The id of the key that signed *text*, verified against what *signer* publishes."""
    return verify_certificate(
        text, signer.public_keys(), computer_id="SN-0001", now=T0 + dt.timedelta(hours=1)
    ).signing_key_id


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "licensekit.signing-keys"


@pytest.fixture
def signer(path: Path) -> KeyFileSigner:
    return KeyFileSigner.create(path, now=T0)


# == the key file ===========================================================================


@posix_only
def test_a_new_key_file_is_readable_by_its_owner_alone(signer: KeyFileSigner, path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_uid == os.geteuid()


def test_a_new_key_file_holds_one_current_key(signer: KeyFileSigner, path: Path) -> None:
    (key,) = signer.keys
    assert key.state is KeyState.CURRENT
    assert key.key_id == signer.key_id
    assert key.created_at == T0
    assert key.retired_at is None
    assert dict(signer.public_keys()) == {key.key_id: key.public_key}
    document = json.loads(path.read_text(encoding="ascii"))
    assert document["format"] == KEY_FILE_FORMAT
    assert set(document) == {"format", "version", "current", "next", "retired"}


def test_a_key_file_is_never_overwritten(signer: KeyFileSigner, path: Path) -> None:
    before = path.read_bytes()
    with pytest.raises(SigningKeyError, match="exists already; it is never overwritten"):
        KeyFileSigner.create(path)
    assert path.read_bytes() == before


def test_each_key_file_gets_its_own_random_key(tmp_path: Path) -> None:
    """Nothing is derived from a host secret (there is none to give): each key is new."""
    first = KeyFileSigner.create(tmp_path / "a")
    second = KeyFileSigner.create(tmp_path / "b")
    assert first.key_id != second.key_id


def test_the_key_file_reads_back_the_same_key(signer: KeyFileSigner, path: Path) -> None:
    text = issue_certificate(signer, CLAIMS)
    again = KeyFileSigner(path)
    assert again.key_id == signer.key_id
    assert verified_by(text, again) == signer.key_id


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700])
def test_a_key_file_others_could_read_is_refused(
    signer: KeyFileSigner, path: Path, mode: int
) -> None:
    path.chmod(mode)
    if mode & 0o077:
        with pytest.raises(SigningKeyError, match=f"permissions {mode:04o} .* too open") as e:
            KeyFileSigner(path)
        assert "chmod 600" in str(e.value)
    else:
        assert KeyFileSigner(path).key_id == signer.key_id


@posix_only
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_key_file_of_another_user_is_refused(signer: KeyFileSigner, path: Path) -> None:
    os.chown(path, 65534, -1)
    with pytest.raises(SigningKeyError, match="belongs to another user"):
        KeyFileSigner(path)


def test_a_missing_key_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match=r"no signing key file at .*signing-key create"):
        KeyFileSigner(tmp_path / "none")


@posix_only
def test_a_folder_or_a_fifo_is_no_key_file(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="is not a regular file"):
        KeyFileSigner(tmp_path)
    os.mkfifo(tmp_path / "fifo", 0o600)
    with pytest.raises(SigningKeyError, match="is not a regular file"):
        KeyFileSigner(tmp_path / "fifo")


def _damage(path: Path, change: object) -> None:
    document = json.loads(path.read_text(encoding="ascii"))
    if isinstance(change, bytes):
        path.write_bytes(change)
        return
    if callable(change):
        change(document)
        change = json.dumps(document)
    path.write_text(str(change), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("not json", "it is not JSON"),
        (b"\xff\xfe{}", "it is not JSON"),
        ("[]", "does not say it is a 'licensekit signing keys' file"),
        (lambda d: d.update(version=2), "its version is 2"),
        (lambda d: d.pop("current"), "'current' is missing"),
        (lambda d: d.update(current="x"), "current is not a JSON object"),
        (lambda d: d["current"].update(private_key="!!"), "a private key is not base64"),
        (lambda d: d["current"].update(private_key="QUJD"), "a private key is 3 bytes long"),
        (lambda d: d["current"].update(private_key=5), "a private key is not base64"),
        (lambda d: d["current"].update(created_at="yesterday"), "does not match format"),
        (lambda d: d["current"].update(created_at=5), "5 is not a time"),
        (lambda d: d.update(retired={}), "'retired' is not a list"),
        (lambda d: d.update(next=d["current"]), "it holds the same key twice"),
        (
            lambda d: d.update(
                retired=[{"public_key": "A" * 43 + "=", "created_at": None, "retired_at": None}]
            ),
            "a retired public key is of small order",
        ),
    ],
)
def test_a_damaged_key_file_is_refused(
    signer: KeyFileSigner, path: Path, change: object, message: str
) -> None:
    _damage(path, change)
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match=f"{path.name}'? is damaged: .*{message}"):
        KeyFileSigner(path)


def test_a_huge_key_file_is_refused(signer: KeyFileSigner, path: Path) -> None:
    path.write_bytes(b" " * 70_000)
    with pytest.raises(SigningKeyError, match="too large"):
        KeyFileSigner(path)


def test_nothing_private_in_reprs(signer: KeyFileSigner, path: Path) -> None:
    seed = json.loads(path.read_text(encoding="ascii"))["current"]["private_key"]
    for shown in (repr(signer), repr(signer.keys), repr(Ed25519Signer.generate())):
        assert seed not in shown
        assert "_key=" not in shown
    assert signer.key_id in repr(signer)


def test_now_must_be_aware(path: Path) -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        KeyFileSigner.create(path, now=dt.datetime(2030, 1, 1))
    assert not path.exists()
    with pytest.raises(ValidationError, match="Ed25519PrivateKey"):
        Ed25519Signer(b"\0" * 32)  # type: ignore[arg-type]


# == rotation =================================================================================


def test_a_rotated_key_verifies_old_and_new_certificates_until_the_old_is_dropped(
    signer: KeyFileSigner,
) -> None:
    old_id = signer.key_id
    before = issue_certificate(signer, CLAIMS)
    new = signer.rotate(now=T0 + dt.timedelta(days=1))
    after = issue_certificate(signer, CLAIMS)
    assert new.key_id == signer.key_id != old_id
    assert verified_by(before, signer) == old_id
    assert verified_by(after, signer) == new.key_id
    current, retired = signer.keys
    assert (current.state, retired.state) == (KeyState.CURRENT, KeyState.RETIRED)
    assert retired.key_id == old_id
    assert retired.retired_at == T0 + dt.timedelta(days=1)
    with pytest.raises(SigningKeyError, match="may be valid until 2030-01-09 12:00 UTC"):
        signer.drop(old_id, now=T0 + dt.timedelta(days=7))  # a 7-day lease not yet over
    assert old_id in signer.public_keys()
    dropped = signer.drop(old_id, now=T0 + dt.timedelta(days=8))
    assert dropped.key_id == old_id
    with pytest.raises(CertificateKeyUnknown):
        verified_by(before, signer)
    assert verified_by(after, signer) == new.key_id


def test_a_prepared_key_is_published_before_it_signs(signer: KeyFileSigner) -> None:
    first = signer.key_id
    ahead = signer.prepare(now=T0)
    assert ahead.state is KeyState.NEXT
    assert signer.key_id == first  # still signing with the current key
    assert list(signer.public_keys()) == [first, ahead.key_id]
    published = dict(signer.public_keys())  # what the product is built with
    promoted = signer.rotate()
    assert promoted.key_id == ahead.key_id == signer.key_id
    text = issue_certificate(signer, CLAIMS)
    license = verify_certificate(
        text, published, computer_id="SN-0001", now=T0 + dt.timedelta(hours=1)
    )
    assert license.signing_key_id == ahead.key_id
    assert [k.state for k in signer.keys] == [KeyState.CURRENT, KeyState.RETIRED]


def test_a_rotation_without_a_prepared_key_makes_a_new_one(signer: KeyFileSigner) -> None:
    published = dict(signer.public_keys())
    signer.rotate()
    text = issue_certificate(signer, CLAIMS)
    with pytest.raises(CertificateKeyUnknown):
        verify_certificate(text, published, computer_id="SN-0001", now=T0)


def test_retired_keys_are_listed_newest_first(signer: KeyFileSigner) -> None:
    ids = [signer.key_id]
    for day in (1, 2, 3):
        ids.append(signer.rotate(now=T0 + dt.timedelta(days=day)).key_id)
    assert [k.key_id for k in signer.keys] == ids[::-1]
    assert [k.retired_at for k in signer.keys[1:]] == [T0 + dt.timedelta(days=d) for d in (3, 2, 1)]


def test_the_current_key_cannot_be_dropped_nor_an_unknown_one(signer: KeyFileSigner) -> None:
    with pytest.raises(SigningKeyError, match="is the current signing key; rotate"):
        signer.drop(signer.key_id)
    with pytest.raises(SigningKeyError, match=r"no key 'feedfeedfeedfeed' in .* \(its keys: "):
        signer.drop("feedfeedfeedfeed")


def test_a_next_key_may_be_dropped_and_only_one_prepared(signer: KeyFileSigner) -> None:
    ahead = signer.prepare()
    with pytest.raises(SigningKeyError, match=f"holds a next key already, {ahead.key_id}"):
        signer.prepare()
    assert signer.drop(ahead.key_id).state is KeyState.NEXT
    assert [k.state for k in signer.keys] == [KeyState.CURRENT]


def test_changes_by_another_process_are_kept(signer: KeyFileSigner, path: Path) -> None:
    """A rotation reads the file first: the key another process prepared is the one promoted."""
    elsewhere = KeyFileSigner(path)
    ahead = elsewhere.prepare()
    assert signer.rotate().key_id == ahead.key_id
    assert elsewhere.key_id != ahead.key_id  # it signs with what it read, until it reloads
    elsewhere.reload()
    assert elsewhere.key_id == ahead.key_id


@posix_only
def test_a_rotation_keeps_the_file_private_and_leaves_no_temporary_file(
    signer: KeyFileSigner, path: Path
) -> None:
    signer.prepare()
    signer.rotate()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_rotation_that_cannot_write_changes_nothing(
    signer: KeyFileSigner, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up at the rename: the old file stays, whole, and no temporary file."""

    def full(source: object, target: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    before = path.read_bytes()
    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(SigningKeyError, match=r"cannot write the signing key file .*: No space"):
        signer.rotate()
    assert path.read_bytes() == before
    assert len(signer.keys) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_change_locks_the_file_and_leaves_no_lock_file(
    signer: KeyFileSigner, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a change is written, another process changing the file waits for the lock."""
    import fcntl

    seen: list[int] = []
    real = signing.replace_private_file

    def probe(*args: object, **kwargs: object) -> None:
        descriptor = os.open(f"{path}.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.append(stat.S_IMODE(os.fstat(descriptor).st_mode))
        finally:
            os.close(descriptor)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(signing, "replace_private_file", probe)
    signer.rotate()
    assert seen == [0o600]
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
