"""FileMailer: one ``.eml`` file per message, in sending order, written whole."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from licensekit import LicenseKit, PasswordHasher
from licensekit.exceptions import DeliveryError, ValidationError
from licensekit.mail import BatchMailer, Mailer, Message, MessageKind, render_install_invitation
from licensekit.mailers import FileMailer
from licensekit.testing import (
    TEST_DOWNLOAD_URL,
    TEST_JOIN_URL,
    TEST_SECRET,
    FakeClock,
    make_business_account,
    new_test_store,
)

SENDER = "Licenses <no-reply@example.com>"
EXPIRES = dt.datetime(2031, 5, 17, 9, 30, tzinfo=dt.UTC)


def invitation(to: str, n: int = 0, language: str = "en") -> Message:
    return render_install_invitation(
        to=to,
        product="Acme CAD",
        account_name="Example Corp",
        inviter_email="admin@example.com",
        download_url=f"https://downloads.example.com/install?token=tok{n:04d}",
        code=f"ABCD-EFGH-{n:04d}",
        token=f"tok{n:04d}",
        expires_at=EXPIRES,
        language=language,
        service_name="Example Licensing",
    )


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def everything_in(folder: Path) -> list[Path]:
    """Every entry of *folder*, hidden ones included."""
    return sorted(folder.iterdir())


def test_file_mailer_is_a_mailer_without_batches(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path, sender=SENDER)
    assert isinstance(mailer, Mailer)
    assert not isinstance(mailer, BatchMailer)
    assert repr(mailer) == f"FileMailer({str(tmp_path)!r})"


def test_creates_the_folder_and_writes_one_eml_per_message(tmp_path: Path) -> None:
    folder = tmp_path / "outbox" / "nested"
    mailer = FileMailer(folder, sender=SENDER)
    assert mailer.files == []
    assert not folder.exists()

    mailer.send(invitation("alice@example.org", 1))

    (path,) = mailer.files
    assert path.parent == folder
    assert path.suffix == ".eml"
    assert everything_in(folder) == [path]
    assert MessageKind.INSTALL_INVITATION.value in path.name
    assert "alice@example.org" in path.name


@pytest.mark.parametrize("language", ["en", "de", "ja"])
def test_each_file_is_the_whole_message(tmp_path: Path, language: str) -> None:
    mailer = FileMailer(tmp_path, sender=SENDER)
    message = invitation("alice@example.org", 7, language)

    mailer.send(message)

    parsed = read(mailer.files[0])
    assert parsed["From"] == SENDER
    assert parsed["To"] == "alice@example.org"
    assert parsed["Subject"] == message.subject
    assert parsed["Content-Language"] == language
    date = parsedate_to_datetime(parsed["Date"])
    assert date.tzinfo is not None
    assert abs(date - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", parsed["Message-ID"])
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert text.get_content() == message.text
    assert html.get_content() == message.html
    for part in (text.get_content(), html.get_content()):
        assert "ABCD-EFGH-0007" in part
        assert "https://downloads.example.com/install?token=tok0007" in part


def test_files_sort_in_sending_order_and_leave_no_temporary_files(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path, sender=SENDER)
    # Names chosen so that sorting by recipient would give another order.
    recipients = [f"{chr(ord('z') - i)}{i:02d}@example.org" for i in range(15)]

    for i, to in enumerate(recipients):
        mailer.send(invitation(to, i))

    assert [read(p)["To"] for p in mailer.files] == recipients
    assert everything_in(tmp_path) == mailer.files
    assert len({read(p)["Message-ID"] for p in mailer.files}) == len(recipients)


def test_two_mailers_on_one_folder_do_not_clash(tmp_path: Path) -> None:
    first = FileMailer(tmp_path, sender=SENDER)
    second = FileMailer(tmp_path, sender=SENDER)

    first.send(invitation("same@example.org", 1))
    second.send(invitation("same@example.org", 2))

    assert len(first.files) == 2
    assert second.files == first.files


def test_two_mailers_on_one_folder_do_not_clash_within_one_clock_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_000_000_000)  # a coarse clock
    first = FileMailer(tmp_path, sender=SENDER)
    second = FileMailer(tmp_path, sender=SENDER)

    first.send(invitation("same@example.org", 1))
    second.send(invitation("same@example.org", 2))

    assert len(first.files) == 2


def test_an_unsafe_recipient_stays_inside_the_folder(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox", sender=SENDER)
    message = invitation("../../etc/passwd@example.org")  # a Message need not hold a valid address

    mailer.send(message)

    (path,) = mailer.files
    assert path.parent == tmp_path / "outbox"
    assert "/" not in path.name
    assert read(path)["To"] == message.to
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox"]


def test_a_folder_that_cannot_be_created_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file")
    mailer = FileMailer(blocker / "outbox", sender=SENDER)

    with pytest.raises(DeliveryError, match=r"alice@example\.org") as e:
        mailer.send(invitation("alice@example.org"))

    assert not e.value.permanent
    assert mailer.files == []
    assert blocker.read_text() == "a regular file"


def test_a_file_in_place_of_the_folder_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a regular file")
    mailer = FileMailer(blocker, sender=SENDER)

    with pytest.raises(DeliveryError):
        mailer.send(invitation("alice@example.org"))
    assert mailer.files == []


@pytest.mark.parametrize(
    "sender", ["", "Licenses", "Licenses <no-reply>", "a@example.com\r\nBcc: x@example.org"]
)
def test_invalid_sender(tmp_path: Path, sender: str) -> None:
    with pytest.raises(ValidationError):
        FileMailer(tmp_path, sender=sender)


def test_threads_sharing_a_mailer_each_get_their_own_file(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path, sender=SENDER)
    threads_count, per_thread = 8, 25
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def run(thread: int) -> None:
        barrier.wait()
        try:
            for i in range(per_thread):
                mailer.send(invitation(f"t{thread}-m{i:02d}@example.org", thread * 100 + i))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    files = mailer.files
    assert len(files) == threads_count * per_thread
    assert len({p.name for p in files}) == len(files)
    assert everything_in(tmp_path) == files
    recipients = [read(p)["To"] for p in files]
    expected = {
        f"t{t}-m{i:02d}@example.org" for t in range(threads_count) for i in range(per_thread)
    }
    assert set(recipients) == expected
    # Each thread's own messages keep their order in the sorted listing.
    for number in range(threads_count):
        own = [r for r in recipients if r.startswith(f"t{number}-")]
        assert own == sorted(own)


def test_the_service_writes_one_file_per_invitee(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox", sender=SENDER)
    kit = LicenseKit(
        new_test_store(),
        mailer,
        secret=TEST_SECRET,
        join_url=TEST_JOIN_URL,
        download_url=TEST_DOWNLOAD_URL,
        clock=FakeClock(),
        password_hasher=PasswordHasher.insecure_fast(),
    )
    admin, account = make_business_account(kit)
    key = kit.add_license_key(admin, account.id, product="Acme CAD", value="ACME-KEY-1", seats=5)
    emails = [f"installer{i}@example.org" for i in range(6)]

    batch = kit.invite_installers(admin, account.id, key.id, emails, language="de")

    assert batch.undelivered == ()
    assert [v.sent_count for v in batch.invited] == [1] * len(emails)
    files = mailer.files
    assert [read(p)["To"] for p in files] == emails
    exported = kit.export_install_invitations(admin, account.id, key.id).splitlines()[1:]
    codes = {row.split(",")[0]: row.split(",")[1] for row in exported}
    for path in files:
        parsed = read(path)
        assert parsed["Content-Language"] == "de"
        body = parsed.get_body(("plain",))
        assert body is not None
        assert codes[parsed["To"]] in body.get_content()
    assert everything_in(tmp_path / "outbox") == files
