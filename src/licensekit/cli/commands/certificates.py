"""``licensekit signing-key`` and ``licensekit verify-certificate``: certificates' two ends.

The signing key file (``--signing-key-file``, by default beside the database) holds the keys
the service signs certificates with; ``signing-key public`` prints their public keys for the
product, and ``verify-certificate`` checks a certificate as the installed product does, with
:mod:`licensekit.verifier`. None of them opens the database.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from licensekit._private_files import read_file
from licensekit.cli._app import App
from licensekit.cli._errors import EXIT_OK, CommandError
from licensekit.cli._options import moment
from licensekit.cli._output import when
from licensekit.cli._parser import Builder, Parser
from licensekit.domain._echo import echo_path
from licensekit.signing import KeyFileSigner, KeyState, SigningKey
from licensekit.verifier import MAX_CERTIFICATE_CHARS, PublicKey, verify_certificate

__all__ = [
    "create_key",
    "define_signing_key",
    "define_verify_certificate",
    "drop_key",
    "prepare_key",
    "print_public_keys",
    "rotate_key",
    "verify",
]

_MOST_PUBLIC_KEY_BYTES = 1 << 16
_PUBLIC = "licensekit signing-key public --json"


def define_signing_key(parser: Parser, b: Builder) -> None:
    """Define ``licensekit signing-key create|prepare|rotate|drop|public``."""
    actions = b.actions(parser)
    b.command(actions, "create", create_key, "Make the signing key file, with a new key")
    b.command(
        actions,
        "prepare",
        prepare_key,
        "Make the next key: published from now on, signing after the next rotation",
    )
    b.command(
        actions,
        "rotate",
        rotate_key,
        "Make the next key current (a new one if none was prepared); retire the current one",
    )
    p = b.command(actions, "drop", drop_key, "Stop publishing a retired or next key")
    p.add_argument("key_id", metavar="KEY_ID", help="the key's id, as 'signing-key public' lists")
    p.add_argument(
        "--force",
        action="store_true",
        help="drop a retired key before its certificates' lease has run out (a leaked key)",
    )
    b.command(
        actions,
        "public",
        print_public_keys,
        "List the keys; with --json, print the public keys to embed in the product",
    )


def define_verify_certificate(parser: Parser, b: Builder) -> None:
    """Define ``licensekit verify-certificate FILE --computer-id ID``."""
    b.handle(parser, verify)
    parser.add_argument(
        "certificate", metavar="FILE", help="the certificate, or - to read standard input"
    )
    parser.add_argument(
        "--computer-id",
        required=True,
        metavar="ID",
        help="the computer the product runs on, as it activated",
    )
    parser.add_argument(
        "--public-keys",
        metavar="FILE",
        help=f"the public keys the product trusts, as '{_PUBLIC}' writes them "
        "(default: those of the signing key file)",
    )
    parser.add_argument(
        "--at",
        type=moment,
        metavar="DATE",
        help="check as of this time instead of now (ISO 8601; without a zone, UTC)",
    )


# == the signing key file ======================================================================


def create_key(app: App, args: argparse.Namespace) -> int:
    """Make the signing key file, readable by its owner alone; never overwrite one."""
    signer = KeyFileSigner.create(app.signing_key_file())
    key = signer.keys[0]
    where = signer.path.resolve()
    if app.out.json_mode:
        app.out.json({"file": where, "key": _key_data(key)})
        return EXIT_OK
    app.out.line(
        f"Created the signing key file {where} (readable by you alone; back it up); "
        f"its key {key.key_id} signs certificates"
    )
    app.out.line(f"Give the product its public key: {_PUBLIC} > public-keys.json")
    return EXIT_OK


def prepare_key(app: App, args: argparse.Namespace) -> int:
    """Make the next key, so that products get its public key before it signs."""
    key = KeyFileSigner(app.signing_key_file()).prepare()
    return app.out.answer(
        _key_data(key),
        f"Made the next key, {key.key_id}: it is published from now on and signs after "
        f"'licensekit signing-key rotate'. Give products the public keys: {_PUBLIC}",
    )


def rotate_key(app: App, args: argparse.Namespace) -> int:
    """Make the next key current, or a new one; the old one stays published, retired."""
    signer = KeyFileSigner(app.signing_key_file())
    prepared = any(key.state is KeyState.NEXT for key in signer.keys)
    retired = signer.keys[0]
    key = signer.rotate()
    if app.out.json_mode:
        app.out.json({"current": _key_data(key), "retired": retired.key_id, "prepared": prepared})
        return EXIT_OK
    app.out.line(
        f"Key {key.key_id} signs certificates from now on; {retired.key_id} is retired and "
        "stays published until you drop it"
    )
    if not prepared:
        app.out.line(
            f"{key.key_id} is new: products refuse its certificates until they have its public "
            f"key ({_PUBLIC})"
        )
    return EXIT_OK


def drop_key(app: App, args: argparse.Namespace) -> int:
    """Remove a retired (or next) key from the file: it is published no more."""
    key = KeyFileSigner(app.signing_key_file()).drop(args.key_id, force=args.force)
    return app.out.answer(
        _key_data(key),
        f"Dropped the {key.state} key {key.key_id}; products given the public keys from now "
        "on will refuse the certificates it signed",
    )


def print_public_keys(app: App, args: argparse.Namespace) -> int:
    """List the keys; in JSON, the public keys by key id, as the product embeds them."""
    signer = KeyFileSigner(app.signing_key_file())
    if app.out.json_mode:
        app.out.json({key.key_id: key.public_key_text for key in signer.keys})
        return EXIT_OK
    app.out.line(f"Keys of {signer.path}:")
    app.out.table(
        ["KEY ID", "STATE", "CREATED", "RETIRED", "PUBLIC KEY"],
        [
            [key.key_id, key.state, when(key.created_at), when(key.retired_at), key.public_key_text]
            for key in signer.keys
        ],
    )
    return EXIT_OK


def _key_data(key: SigningKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "state": key.state,
        "public_key": key.public_key_text,
        "created_at": key.created_at,
        "retired_at": key.retired_at,
    }


# == verifying =================================================================================


def verify(app: App, args: argparse.Namespace) -> int:
    """Check a certificate offline, against the public keys given, on this computer."""
    public_keys: Mapping[str, PublicKey]
    if args.public_keys is not None:
        public_keys = _read_public_keys(Path(args.public_keys))
    else:
        public_keys = KeyFileSigner(app.signing_key_file()).public_keys()
    if args.certificate == "-":
        text = _read_stdin(app, MAX_CERTIFICATE_CHARS + 1)
    else:
        text = _read_file(Path(args.certificate), "certificate", MAX_CERTIFICATE_CHARS)
    verified = verify_certificate(text, public_keys, computer_id=args.computer_id, now=args.at)
    if app.out.json_mode:
        app.out.json(verified._asdict())
        return EXIT_OK
    app.out.line(
        f"The certificate is valid on {verified.computer_id} until {when(verified.valid_until)} "
        "UTC:"
    )
    app.out.fields(
        [
            ("Product", verified.product),
            ("License state", verified.license_state),
            ("License expires", when(verified.license_expires_at) or "never"),
            ("Installation", verified.installation_id),
            ("Business account", verified.account_id),
            ("License key", verified.license_key_id),
            ("Issued", when(verified.issued_at)),
            ("Signing key", verified.signing_key_id),
        ]
    )
    return EXIT_OK


def _read_stdin(app: App, most: int) -> str | bytes:
    """Up to *most* characters of standard input: its bytes when it has them."""
    stdin = app.console.stdin
    binary = getattr(stdin, "buffer", None)
    try:
        return binary.read(most) if binary is not None else stdin.read(most)
    except UnicodeDecodeError:
        raise CommandError("standard input is not ASCII text, as a certificate is") from None


def _read_public_keys(path: Path) -> Mapping[str, str]:
    data = _read_file(path, "public keys file", _MOST_PUBLIC_KEY_BYTES)
    try:
        keys = json.loads(data)
    except (ValueError, RecursionError):
        keys = None
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
    ):
        raise CommandError(
            f"the public keys file {echo_path(path)} must hold a JSON object of key ids and "
            f"base64 public keys, as '{_PUBLIC}' writes"
        )
    return keys


def _read_file(path: Path, what: str, most: int) -> bytes:
    """The first *most* bytes of the regular file *path*."""
    try:
        return read_file(path, what, most=most, error=CommandError, private=False)
    except FileNotFoundError:
        raise CommandError(f"there is no {what} {echo_path(path)}") from None
