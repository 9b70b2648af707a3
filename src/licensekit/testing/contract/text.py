# ruff: noqa: D102
# Part of a test suite that ships with the library: its test methods are named for the rule
# they check.
"""Text: every text field holds any Unicode scalar values but NUL, and gives them back exactly.

licensekit refuses NUL (U+0000) and lone surrogates at its edge; everything else may reach
a store: control characters U+0001 to U+001F, CR LF, leading and trailing spaces, combining
marks, right-to-left text and direction marks, emoji sequences, U+FFFF and the last code
point, up to the lengths licensekit enforces (:data:`TEXT_LIMITS`). What comes back is
exactly what was written: not trimmed, not normalised (NFC and NFD stay two texts), not
case-folded. Texts that differ only in such ways are distinct values in keys, unique sets
and look-ups.
"""

from __future__ import annotations

import collections.abc
import typing
from collections.abc import Mapping
from typing import Any

import pytest

from licensekit.storage import KINDS, Query, RecordKind, Store
from licensekit.testing.contract._support import (
    assert_round_trip,
    assert_same_records,
    values,
    write_all,
)
from licensekit.testing.contract.base import ContractBase
from licensekit.testing.contract.samples import (
    ID_COLLECTIONS,
    REFERENCES,
    Samples,
    field_types,
    fields_of_type,
)

__all__ = ["HOSTILE_TEXTS", "TEXT_LIMITS", "TextContract"]

TEXT_LIMITS: Mapping[str, int] = {
    "email": 254,
    "name": 200,
    "product": 200,
    "computer_id": 200,
    "computer_name": 200,
    "notes": 2000,
    "delivery_error": 500,
    "key": len("verify:email:") + 254,
}
"""The most characters licensekit lets into each text field (by name) it bounds.

An address is at most 254 characters, a name (of a person, an account, a product or a
computer) and a computer id at most 200, an administrator's notes 2,000, a delivery error
500; a throttle's key holds an address after a prefix (``verify:email:``, ``password:``).
The suite writes texts of exactly these lengths in 4-byte characters mostly.
"""

HOSTILE_TEXTS: Mapping[str, str] = {
    "controls": "".join(map(chr, range(1, 32))) + "\x7f\x80\x85\x9f",
    "line ends": "one\r\ntwo\rthree\nfour\u2028five\u2029",
    "spaces": "  leading and trailing \t ",
    "combining": "e\u0301 n\u0303 a\u030a Z\u0351\u0352\u0353",
    "precomposed": "é ñ å",
    "right to left": "שלום مرحبا \u202eevil\u202c \u200f",
    "emoji": "🚀 👩\u200d💻 🇪🇺 🏳\ufe0f\u200d🌈",
    "edges": "\ud7ff\ue000\uffef\ufffd\ufffe\uffff\U00010000\U0010ffff",
    "invisible": "\ufeffa\u200bb\u200cc\u200dd\u2060e\u00ad",
    "quotes": "'; DROP TABLE users; -- \" ` \\ % _ * ? [a-z] $1 {0}",
    "escapes": '\\u0000 \\x00 %00 &#0; {"a": "\\n"}',
    "scripts": "中文 日本語 한국어 Ελληνικά Кириллица देवनागरी",
}
"""Texts chosen to trip careless stores; none holds NUL or a lone surrogate."""

_LOOKALIKES = (
    ("é", "e\u0301"),
    ("a", "A"),
    ("a", "a "),
    ("ß", "ss"),
    ("ﬁ", "fi"),
    ("ab", "a\u200bb"),
    ("\u2126", "\u03a9"),
    ("\uff21", "A"),
    ("i\u0307", "\u0130"),
)
"""Pairs of distinct texts that a normalising, case-folding or padding store confuses."""


def _kind_id(kind: RecordKind[Any]) -> str:
    return kind.name


def text_fields(kind: RecordKind[Any]) -> list[str]:
    """Return *kind*'s text fields, but those that hold another record's id."""
    return [f for f in fields_of_type(kind, str) if f not in REFERENCES[kind]]


def text_collections(kind: RecordKind[Any]) -> list[str]:
    """Return *kind*'s fields that hold tuples or mappings of free text."""
    found = []
    for name, hint in field_types(kind).items():
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if name in ID_COLLECTIONS.get(kind, ()) or str not in args:
            continue
        if origin in (tuple, collections.abc.Mapping):
            found.append(name)
    return found


def _filled(kind: RecordKind[Any], field: str) -> Any:
    """Return a value of the collection *field* full of hostile texts, in keys too."""
    if typing.get_origin(field_types(kind)[field]) is tuple:
        return tuple(HOSTILE_TEXTS.values())
    return {f"{name}: {text}": text for name, text in HOSTILE_TEXTS.items()}


def _longest(limit: int, shift: int) -> str:
    """Return *limit* characters, 4-byte ones mostly, a few of 1 to 3 bytes."""
    mixed = "🚀" * 7 + "a" + "é" + "中"
    return (mixed * (limit // len(mixed) + 2))[shift : shift + limit]


_WITH_TEXT = [kind for kind in KINDS if text_fields(kind) or text_collections(kind)]
_LIMITED = [kind for kind in KINDS if set(text_fields(kind)) & set(TEXT_LIMITS)]
_LOOKED_UP = [
    (kind, fields, f)
    for kind in KINDS
    for fields in kind.lookups
    for f in fields
    if f in text_fields(kind)
]


def _lookup_id(item: tuple[RecordKind[Any], tuple[str, ...], str]) -> str:
    return f"{item[0].name}-{item[2]}"


class TextContract(ContractBase):
    """The text a store must hold and give back exactly."""

    @pytest.mark.parametrize("kind", _WITH_TEXT, ids=_kind_id)
    def test_text_fields_hold_any_text_but_nul(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        records = [
            samples.full(kind, f"{field}-{n}", {field: text})
            for field in text_fields(kind)
            for n, text in enumerate(HOSTILE_TEXTS.values())
        ]
        records += [
            samples.full(kind, f"{field}-all", {field: _filled(kind, field)})
            for field in text_collections(kind)
        ]
        assert_round_trip(store, samples, kind, records, "holding odd text")

    @pytest.mark.parametrize("kind", _LIMITED, ids=_kind_id)
    def test_text_as_long_as_licensekit_allows_comes_back_whole(
        self, store: Store, samples: Samples, kind: RecordKind[Any]
    ) -> None:
        limited = [f for f in text_fields(kind) if f in TEXT_LIMITS]
        records = [
            samples.full(kind, f"long-{field}", {field: _longest(TEXT_LIMITS[field], 0)})
            for field in limited
        ]
        records.append(
            samples.full(
                kind,
                "long-all",
                {f: _longest(TEXT_LIMITS[f], n + 1) for n, f in enumerate(limited)},
            )
        )
        assert_round_trip(store, samples, kind, records, "text as long as licensekit allows")

    @pytest.mark.parametrize(
        ("kind", "fields", "field"), _LOOKED_UP, ids=map(_lookup_id, _LOOKED_UP)
    )
    def test_texts_that_differ_only_in_form_case_or_padding_are_distinct(
        self,
        store: Store,
        samples: Samples,
        kind: RecordKind[Any],
        fields: tuple[str, ...],
        field: str,
    ) -> None:
        base = getattr(samples.bare(kind, "lookalike"), field)
        texts = list(dict.fromkeys(base + text for pair in _LOOKALIKES for text in pair))
        records = [samples.bare(kind, f"lookalike{n}", {field: t}) for n, t in enumerate(texts)]
        write_all(store, samples, kind, records)
        with store.transaction() as tx:
            found = tx.read([Query(kind, fields, (values(r, fields),)) for r in records])
        for record, result in zip(records, found, strict=True):
            sharing = [r for r in records if values(r, fields) == values(record, fields)]
            assert_same_records(
                kind,
                result,
                sharing,
                f"read of {kind.name} by {fields} = {values(record, fields)!r}",
            )
