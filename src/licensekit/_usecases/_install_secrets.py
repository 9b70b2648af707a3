"""The secrets of invitations to install: codes, tokens, their hashes, ciphertext and links.

An invitation to install carries a temporary activation code and a download token. Both are
made here, stored as keyed hashes (for look-up) and as one ciphertext bound to the
invitation's id (for re-export and resending), and read back from it. What an installer
presents (a typed code or a link's token) becomes the look-up of its invitation here too.
"""

from __future__ import annotations

from licensekit._usecases._checks import TOKEN_PLACEHOLDER
from licensekit._usecases._context import Links
from licensekit._usecases._tx import query
from licensekit.codes import SecretKeys, format_code, parse_code
from licensekit.domain.model import InstallInvitation
from licensekit.exceptions import ActivationCodeNotFound, ValidationError
from licensekit.storage import INSTALL_INVITATIONS, Query

__all__ = [
    "check_download_template",
    "download_link",
    "install_secret_of",
    "presented_invitation",
]


def install_secret_of(keys: SecretKeys, invitation: InstallInvitation) -> tuple[str, str]:
    """Return the (formatted code, token) of a stored invitation to install."""
    plain = keys.decrypt(invitation.secret_ciphertext, bound_to=invitation.id)
    canonical, _, token = plain.partition(" ")
    return format_code(canonical), token


def check_download_template(links: Links) -> None:
    """Raise unless the host gave the template of download links (needed to invite installers).

    Raises:
        ValidationError: It did not.
    """
    if links.download is None:
        raise ValidationError(
            "invitations to install need a download_url template; pass download_url= to LicenseKit"
        )


def download_link(links: Links, token: str) -> str:
    """Return the download link of *token* (see :func:`check_download_template`)."""
    assert links.download is not None  # noqa: S101 - checked by the callers
    return links.download.replace(TOKEN_PLACEHOLDER, token)


def presented_invitation(
    keys: SecretKeys, code: str | None, token: str | None
) -> Query[InstallInvitation]:
    """Return the look-up of the invitation whose *code* (as typed) or *token* was presented.

    Raises:
        ValidationError: Neither or both were given.
        ActivationCodeMistyped: The code has a typing mistake.
        ActivationCodeNotFound: The token is not text.
    """
    if (code is None) == (token is None):
        raise ValidationError(
            "give either the activation code or the download token, not both or neither"
        )
    if code is not None:  # the Query spelled out: activation's hot path
        code_hash = keys.lookup_hash("install-code", parse_code(code))
        return Query(INSTALL_INVITATIONS, ("code_hash",), ((code_hash,),))
    if not isinstance(token, str):
        raise ActivationCodeNotFound("this download link is not valid")
    return query(INSTALL_INVITATIONS, token_hash=keys.lookup_hash("install-token", token.strip()))
