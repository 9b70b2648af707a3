"""The compiled pieces of a narrow save: which fields changed, guarded ones, their values."""

from __future__ import annotations

import attrs

from licensekit.stores._rows import _json_list, _same, differ, reader


@attrs.frozen
class Row:
    key: str
    fixed: str
    a: object
    b: object


def test_a_change_of_a_guarded_field_is_none_whatever_else_changed() -> None:
    changed = differ(("a", "b"), ("key", "fixed"))
    assert changed(Row("k", "f", 1, 2), Row("k", "f", 1, 3)) == (1,)
    assert changed(Row("k", "f", 1, 2), Row("k", "f", 1, 2)) == ()
    assert changed(Row("k", "f", [1], 2), Row("k", "f", [1], 2)) == ()  # equal, not the same
    assert changed(Row("k", "f", 1, 2), Row("j", "f", 1, 2)) is None
    assert changed(Row("k", "f", 1, 2), Row("k", "g", 0, 0)) is None
    assert differ(("a",))(Row("k", "f", 1, 2), Row("j", "g", 1, 2)) == ()  # none guarded


def test_the_values_of_changed_fields_are_encoded_in_order() -> None:
    values = reader(("b", "a"), (_json_list, _same))
    assert values(Row("k", "f", "x", ("p", "q"))) == ('["p", "q"]', "x")
    assert reader(("a",), (_same,))(Row("k", "f", 7, 0)) == (7,)
