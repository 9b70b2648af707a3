"""The installed product's side: ``licensekit activate`` and ``licensekit check-in``.

``activate`` takes a seat as an installer does, with a code or a download link. With
``--keep FOLDER`` it keeps what an installed copy keeps: its installation token (in
``installation-token``, readable by you alone) and its certificate (``certificate``, when
the service has a signing key). ``check-in --keep FOLDER`` then checks in with that token as
the copy would, says where its license stands, and replaces the certificate with the new one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from licensekit._private_files import replace_private_file
from licensekit.cli._app import App, token_from
from licensekit.cli._errors import EXIT_OK, CommandError
from licensekit.cli._output import when
from licensekit.cli._parser import Builder, Parser
from licensekit.domain._echo import echo_path

__all__ = ["activate", "check_in", "define_activate", "define_check_in"]

TOKEN_FILE = "installation-token"  # noqa: S105 - a file name, not a secret
"""The file of a kept copy's installation token."""

CERTIFICATE_FILE = "certificate"
"""The file of a kept copy's latest certificate."""

_KEEP_HELP = "keep the installation token and the certificate in this folder, as a copy does"


def define_activate(parser: Parser, b: Builder) -> None:
    """Define ``licensekit activate``: with a code or a download link, on one computer."""
    b.handle(parser, activate)
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--code", help="the temporary activation code, as typed")
    how.add_argument(
        "--token", metavar="LINK_OR_TOKEN", help="the download link from the email, or its token"
    )
    parser.add_argument(
        "--computer-id",
        required=True,
        metavar="ID",
        help="a stable identifier of the computer (serial number)",
    )
    parser.add_argument("--computer-name", default="", metavar="NAME", help="its name")
    parser.add_argument("--product", help="refuse a code for another product")
    parser.add_argument("--keep", type=Path, metavar="FOLDER", help=_KEEP_HELP)


def define_check_in(parser: Parser, b: Builder) -> None:
    """Define ``licensekit check-in --keep FOLDER``."""
    b.handle(parser, check_in)
    parser.add_argument(
        "--keep",
        type=Path,
        required=True,
        metavar="FOLDER",
        help="the folder 'activate --keep' wrote the copy's token and certificate to",
    )


def activate(app: App, args: argparse.Namespace) -> int:
    """Activate a computer with a temporary activation code or a download link's token."""
    kit = app.kit
    if args.code is not None:
        result = kit.activate(
            code=args.code,
            computer_id=args.computer_id,
            computer_name=args.computer_name,
            product=args.product,
        )
    else:
        result = kit.activate(
            token=token_from(args.token, app.config.download_url),
            computer_id=args.computer_id,
            computer_name=args.computer_name,
            product=args.product,
        )
    if args.keep is not None:
        _keep(args.keep, result.installation_token, result.certificate)
    if app.out.json_mode:
        app.out.json(result)  # without the installation token, hidden from repr
        return EXIT_OK
    computer = (
        f"{args.computer_name} ({result.computer_id})"
        if args.computer_name
        else (result.computer_id)
    )
    if result.already_active:
        app.out.line(f"{computer} holds a seat of {result.product} already; no other was taken")
    else:
        app.out.line(f"Activated {result.product} on {computer} for {result.email}")
    if args.keep is not None:
        kept = "the token and the certificate" if result.certificate else "the token"
        app.out.line(f"Kept {kept} in {args.keep}")
    return EXIT_OK


def check_in(app: App, args: argparse.Namespace) -> int:
    """Check in with a kept copy's token; keep the new certificate, if any."""
    folder: Path = args.keep
    try:
        token = (folder / TOKEN_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise CommandError(
            f"no installation token in {echo_path(folder)} ({getattr(e, 'strerror', e)}); "
            "activate with --keep FOLDER first"
        ) from None
    result = app.kit.check_in(token)
    if result.certificate is not None:
        _write(folder / CERTIFICATE_FILE, result.certificate, "certificate")
    if app.out.json_mode:
        app.out.json(result)
        return EXIT_OK
    runs = "runs" if result.license_state.value in ("active", "grace") else "must stop"
    app.out.fields(
        [
            ("License state", f"{result.license_state.value} (the copy {runs})"),
            ("License expires", when(result.license_expires_at) or "never"),
            ("Grace ends", when(result.grace_ends_at) or "never"),
            ("Check in again", f"by {when(result.check_in_due_at)}"),
            (
                "Certificate",
                "renewed" if result.certificate else "none (the last one runs out at its lease)",
            ),
        ]
    )
    return EXIT_OK


def _keep(folder: Path, token: str, certificate: str | None) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"cannot make the folder {echo_path(folder)}: {e.strerror}") from None
    _write(folder / TOKEN_FILE, token, "installation token")
    if certificate is not None:
        _write(folder / CERTIFICATE_FILE, certificate, "certificate")


def _write(path: Path, text: str, what: str) -> None:
    replace_private_file(path, text.encode("ascii"), what, error=CommandError)
