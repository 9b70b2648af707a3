"""Which language of a :class:`~licensekit.mail.Templates` a BCP 47 tag asks for."""

from __future__ import annotations

from collections.abc import Collection

from licensekit.domain._echo import echo
from licensekit.exceptions import ValidationError

__all__ = ["resolve_tag"]


def resolve_tag(tag: str, languages: Collection[str]) -> str:
    """Return the one of *languages* (tags) to write in for BCP 47 *tag*.

    An exact match wins (case does not matter, ``_`` reads as ``-``); otherwise subtags are
    dropped from the end; otherwise a language's only variant is taken, except where the
    tag names another script.

    Raises:
        ValidationError: No language fits; the message lists *languages*.
    """
    wanted = tag.strip().replace("_", "-").lower()
    by_lower = {known.lower(): known for known in languages}
    parts = wanted.split("-")
    # No known tag has more subtags than the longest of them: a tag of many thousands of
    # subtags (a caller's) must not cost one join of the whole tag per subtag.
    longest = max((known.count("-") + 1 for known in by_lower), default=0)
    for end in range(min(len(parts), longest), 0, -1):
        candidate = "-".join(parts[:end])
        if candidate in by_lower:
            return by_lower[candidate]
    if parts[0] and not _names_other_script(parts):
        variants = [k for k in languages if k.lower().split("-")[0] == parts[0]]
        if len(variants) == 1:
            return variants[0]
    raise ValidationError(
        f"unsupported language {echo(tag)}; supported: {', '.join(languages)}",
        field="language",
    )


def _names_other_script(parts: list[str]) -> bool:
    """True when subtags name a script or region that writes the language differently."""
    if parts[0] != "zh":
        return False
    # Traditional script, the regions that use it, or another Chinese language (an extlang
    # such as yue for Cantonese, usually written in Traditional characters).
    extlang = len(parts) > 1 and len(parts[1]) == 3 and parts[1].isalpha() and parts[1] != "cmn"
    return extlang or any(p in ("hant", "tw", "hk", "mo") for p in parts[1:])
