"""MemoryStore for license keys, install invitations, installations and computer blocks, and the
plain-data round trip of those records."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensekit import DuplicateKey, MemoryStore, StorageError
from licensekit.model import (
    ComputerBlock,
    Installation,
    InstallationStatus,
    InstallationView,
    InstallInvitation,
    InstallInvitationState,
    InstallInvitationView,
    KeyStatus,
    LicenseKey,
    LicenseKeyView,
    Membership,
    MemberStatus,
    MemberView,
    Role,
)
from licensekit.serialization import structure, unstructure

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(hours=1)


def key(n: int, acc: str = "acc_1", value_hash: bytes | None = None) -> LicenseKey:
    return LicenseKey(
        id=f"key_{n:03d}",
        account_id=acc,
        product="Acme Draw",
        seats=5,
        seats_used=0,
        created_at=T0,
        created_by="usr_admin",
        value_hash=value_hash if value_hash is not None else f"vh{n}".encode(),
        value_ciphertext=f"vc{n}".encode(),
    )


def invitation(n: int, key_id: str = "key_001", **changes: Any) -> InstallInvitation:
    record = InstallInvitation(
        id=f"ii_{n:03d}",
        account_id="acc_1",
        key_id=key_id,
        email=f"user{n}@example.com",
        language="en",
        invited_by="usr_admin",
        created_at=T0,
        expires_at=T0 + dt.timedelta(days=7),
        code_hash=f"code{n}".encode(),
        token_hash=f"itok{n}".encode(),
        secret_ciphertext=f"sc{n}".encode(),
    )
    return attrs.evolve(record, **changes)


def installation(n: int, key_id: str = "key_001", **changes: Any) -> Installation:
    record = Installation(
        id=f"ins_{n:03d}",
        account_id="acc_1",
        key_id=key_id,
        computer_id=f"pc-{n}",
        computer_name=f"PC {n}",
        email="ann@example.com",
        invitation_id="ii_001",
        activated_at=T0,
        last_seen_at=T0,
        token_hash=f"ntok{n}".encode(),
    )
    return attrs.evolve(record, **changes)


def block(
    computer_id: str, acc: str = "acc_1", notes: str = "", key_id: str | None = "key_001"
) -> ComputerBlock:
    return ComputerBlock(
        account_id=acc,
        computer_id=computer_id,
        key_id=key_id,
        blocked_at=T0,
        blocked_by="usr_admin",
        notes=notes,
    )


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def raises_storage_error_not_duplicate(info: pytest.ExceptionInfo[StorageError]) -> None:
    assert not isinstance(info.value, DuplicateKey)


# -- license keys --------------------------------------------------------------------------


class TestLicenseKeys:
    def test_added_key_can_be_read_by_id_and_by_value_hash(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_license_key(key(1))
        with store.transaction() as tx:
            assert tx.get_license_key("key_001") == key(1)
            assert tx.find_license_key_by_value_hash("acc_1", b"vh1") == key(1)

    def test_unknown_key_reads_as_none(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            assert tx.get_license_key("nope") is None
            assert tx.find_license_key_by_value_hash("acc_1", b"nope") is None

    def test_duplicate_id_is_refused(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_license_key(key(1))
            with pytest.raises(DuplicateKey, match="id 'key_001'"):
                tx.add_license_key(attrs.evolve(key(1), value_hash=b"other"))

    def test_same_value_twice_in_one_account_is_refused(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_license_key(key(1, value_hash=b"same"))
            with pytest.raises(DuplicateKey, match="that value"):
                tx.add_license_key(key(2, value_hash=b"same"))
            assert tx.get_license_key("key_002") is None

    def test_same_value_in_another_account_is_allowed(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_license_key(key(1, value_hash=b"same"))
            tx.add_license_key(key(2, acc="acc_2", value_hash=b"same"))
            assert tx.find_license_key_by_value_hash("acc_2", b"same") == key(
                2, acc="acc_2", value_hash=b"same"
            )
            assert tx.find_license_key_by_value_hash("acc_1", b"same") == key(1, value_hash=b"same")

    def test_save_replaces_mutable_fields(self, store: MemoryStore) -> None:
        changed = attrs.evolve(key(1), seats=9, seats_used=2, status=KeyStatus.SUSPENDED)
        with store.transaction() as tx:
            tx.add_license_key(key(1))
            tx.save_license_key(changed)
        with store.transaction() as tx:
            assert tx.get_license_key("key_001") == changed
            assert tx.find_license_key_by_value_hash("acc_1", b"vh1") == changed

    def test_save_of_unknown_key_is_a_storage_error(self, store: MemoryStore) -> None:
        with store.transaction() as tx, pytest.raises(StorageError, match="unknown") as info:
            tx.save_license_key(key(1))
        raises_storage_error_not_duplicate(info)

    @pytest.mark.parametrize(("field", "value"), [("account_id", "acc_2"), ("value_hash", b"x")])
    def test_account_and_value_cannot_change(
        self, store: MemoryStore, field: str, value: object
    ) -> None:
        with store.transaction() as tx:
            tx.add_license_key(key(1))
            with pytest.raises(StorageError, match="cannot change"):
                tx.save_license_key(attrs.evolve(key(1), **{field: value}))
            assert tx.get_license_key("key_001") == key(1)

    def test_keys_are_listed_by_id_per_account_in_pages(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            for n in (5, 1, 4, 2, 3):
                tx.add_license_key(key(n))
            tx.add_license_key(key(9, acc="acc_2"))
        with store.transaction() as tx:
            first = tx.list_license_keys("acc_1", after=None, limit=2)
            second = tx.list_license_keys("acc_1", after=first[-1].id, limit=2)
            third = tx.list_license_keys("acc_1", after=second[-1].id, limit=2)
            assert [k.id for k in first] == ["key_001", "key_002"]
            assert [k.id for k in second] == ["key_003", "key_004"]
            assert [k.id for k in third] == ["key_005"]
            assert tx.list_license_keys("acc_1", after="key_005", limit=2) == []
            assert [k.id for k in tx.list_license_keys("acc_2", after=None, limit=9)] == ["key_009"]
            assert tx.list_license_keys("acc_none", after=None, limit=9) == []

    def test_paging_after_an_id_that_is_not_stored(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            for n in (1, 3, 5):
                tx.add_license_key(key(n))
            assert [k.id for k in tx.list_license_keys("acc_1", after="key_002", limit=9)] == [
                "key_003",
                "key_005",
            ]


# -- install invitations -------------------------------------------------------------------


class TestInstallInvitations:
    def test_added_invitations_are_found_by_id_code_and_token(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_install_invitations([invitation(1), invitation(2)])
        with store.transaction() as tx:
            assert tx.get_install_invitation("ii_002") == invitation(2)
            assert tx.find_install_invitation_by_code_hash(b"code1") == invitation(1)
            assert tx.find_install_invitation_by_token_hash(b"itok2") == invitation(2)
            assert tx.find_install_invitation_by_code_hash(b"itok2") is None
            assert tx.find_install_invitation_by_token_hash(b"code1") is None

    @pytest.mark.parametrize(
        ("clash", "match"),
        [
            ({"id": "ii_001"}, "same id"),
            ({"code_hash": b"code1"}, "same code hash"),
            ({"token_hash": b"itok1"}, "same token hash"),
        ],
    )
    def test_clash_with_a_stored_invitation_is_refused_and_adds_nothing(
        self, store: MemoryStore, clash: dict[str, Any], match: str
    ) -> None:
        with store.transaction() as tx:
            tx.add_install_invitations([invitation(1)])
        with store.transaction() as tx:
            with pytest.raises(DuplicateKey, match=match):
                tx.add_install_invitations([invitation(3), invitation(2, **clash)])
            assert tx.get_install_invitation("ii_003") is None
            assert tx.find_install_invitation_by_code_hash(b"code3") is None
            assert [i.id for i in tx.list_install_invitations("key_001", after=None, limit=9)] == [
                "ii_001"
            ]

    @pytest.mark.parametrize(
        ("clash", "match"),
        [
            ({"id": "ii_001"}, "same id"),
            ({"code_hash": b"code1"}, "same code hash"),
            ({"token_hash": b"itok1"}, "same token hash"),
        ],
    )
    def test_clash_within_one_batch_is_refused_and_adds_nothing(
        self, store: MemoryStore, clash: dict[str, Any], match: str
    ) -> None:
        with store.transaction() as tx:
            with pytest.raises(DuplicateKey, match=match):
                tx.add_install_invitations([invitation(1), invitation(2, **clash)])
            assert tx.get_install_invitation("ii_001") is None
            assert tx.list_install_invitations("key_001", after=None, limit=9) == []

    def test_save_replaces_mutable_fields(self, store: MemoryStore) -> None:
        changed = invitation(1, activations=1, sent_count=2, revoked_at=LATER, revoked_by="u")
        with store.transaction() as tx:
            tx.add_install_invitations([invitation(1)])
            tx.save_install_invitation(changed)
        with store.transaction() as tx:
            assert tx.get_install_invitation("ii_001") == changed
            assert tx.find_install_invitation_by_code_hash(b"code1") == changed
            assert tx.find_install_invitation_by_token_hash(b"itok1") == changed

    def test_save_of_unknown_invitation_is_a_storage_error(self, store: MemoryStore) -> None:
        with store.transaction() as tx, pytest.raises(StorageError, match="unknown") as info:
            tx.save_install_invitation(invitation(1))
        raises_storage_error_not_duplicate(info)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("account_id", "acc_2"),
            ("key_id", "key_002"),
            ("email", "other@example.com"),
            ("code_hash", b"other"),
            ("token_hash", b"other"),
        ],
    )
    def test_immutable_fields_cannot_change(
        self, store: MemoryStore, field: str, value: object
    ) -> None:
        with store.transaction() as tx:
            tx.add_install_invitations([invitation(1)])
            with pytest.raises(StorageError, match="cannot change"):
                tx.save_install_invitation(invitation(1, **{field: value}))
            assert tx.get_install_invitation("ii_001") == invitation(1)

    def test_invitations_are_listed_per_key_by_id_in_pages(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_install_invitations([invitation(n) for n in (4, 2, 3, 1)])
            tx.add_install_invitations([invitation(7, key_id="key_002")])
        with store.transaction() as tx:
            page = tx.list_install_invitations("key_001", after=None, limit=3)
            assert [i.id for i in page] == ["ii_001", "ii_002", "ii_003"]
            rest = tx.list_install_invitations("key_001", after="ii_003", limit=3)
            assert [i.id for i in rest] == ["ii_004"]
            other = tx.list_install_invitations("key_002", after=None, limit=3)
            assert [i.id for i in other] == ["ii_007"]


# -- installations -------------------------------------------------------------------------


class TestInstallations:
    def test_added_installation_is_found_by_id_computer_and_token(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_installation(installation(1))
        with store.transaction() as tx:
            assert tx.get_installation("ins_001") == installation(1)
            assert tx.find_installation("key_001", "pc-1") == installation(1)
            assert tx.find_installation("key_002", "pc-1") is None
            assert tx.find_installation_by_token_hash(b"ntok1") == installation(1)

    @pytest.mark.parametrize(
        ("clash", "match"),
        [
            ({"id": "ins_001"}, "id 'ins_001'"),
            ({"computer_id": "pc-1"}, "already has an installation"),
            ({"token_hash": b"ntok1"}, "same token hash"),
        ],
    )
    def test_uniqueness_is_enforced(
        self, store: MemoryStore, clash: dict[str, Any], match: str
    ) -> None:
        with store.transaction() as tx:
            tx.add_installation(installation(1))
            with pytest.raises(DuplicateKey, match=match):
                tx.add_installation(installation(2, **clash))
            assert tx.find_installation_by_token_hash(b"ntok2") is None
            assert [i.id for i in tx.list_installations("key_001", after=None, limit=9)] == [
                "ins_001"
            ]

    def test_same_computer_under_another_key_is_allowed(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_installation(installation(1))
            tx.add_installation(installation(2, key_id="key_002", computer_id="pc-1"))
            assert tx.find_installation("key_002", "pc-1").id == "ins_002"  # type: ignore[union-attr]
            assert tx.find_installation("key_001", "pc-1").id == "ins_001"  # type: ignore[union-attr]

    def test_save_with_a_new_token_reindexes_it(self, store: MemoryStore) -> None:
        refreshed = installation(1, token_hash=b"fresh", computer_name="Renamed")
        with store.transaction() as tx:
            tx.add_installation(installation(1))
        with store.transaction() as tx:
            tx.save_installation(refreshed)
        with store.transaction() as tx:
            assert tx.find_installation_by_token_hash(b"fresh") == refreshed
            assert tx.find_installation_by_token_hash(b"ntok1") is None
            assert tx.get_installation("ins_001") == refreshed
            assert tx.find_installation("key_001", "pc-1") == refreshed

    def test_old_token_may_be_reused_by_another_installation_after_refresh(
        self, store: MemoryStore
    ) -> None:
        with store.transaction() as tx:
            tx.add_installation(installation(1))
            tx.save_installation(installation(1, token_hash=b"fresh"))
            tx.add_installation(installation(2, token_hash=b"ntok1"))
            assert tx.find_installation_by_token_hash(b"ntok1").id == "ins_002"  # type: ignore[union-attr]

    def test_save_with_the_same_token_keeps_the_index(self, store: MemoryStore) -> None:
        deactivated = installation(1, status=InstallationStatus.DEACTIVATED, deactivated_at=LATER)
        with store.transaction() as tx:
            tx.add_installation(installation(1))
            tx.save_installation(deactivated)
            assert tx.find_installation_by_token_hash(b"ntok1") == deactivated

    def test_save_with_a_token_of_another_installation_is_refused(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.add_installation(installation(1))
            tx.add_installation(installation(2))
            with pytest.raises(DuplicateKey, match="same token hash"):
                tx.save_installation(installation(1, token_hash=b"ntok2"))
            assert tx.find_installation_by_token_hash(b"ntok1") == installation(1)
            assert tx.find_installation_by_token_hash(b"ntok2") == installation(2)
            assert tx.get_installation("ins_001") == installation(1)

    def test_save_of_unknown_installation_is_a_storage_error(self, store: MemoryStore) -> None:
        with store.transaction() as tx, pytest.raises(StorageError, match="unknown") as info:
            tx.save_installation(installation(1))
        raises_storage_error_not_duplicate(info)

    @pytest.mark.parametrize(
        ("field", "value"),
        [("account_id", "acc_2"), ("key_id", "key_002"), ("computer_id", "pc-9")],
    )
    def test_account_key_and_computer_cannot_change(
        self, store: MemoryStore, field: str, value: object
    ) -> None:
        with store.transaction() as tx:
            tx.add_installation(installation(1))
            with pytest.raises(StorageError, match="cannot change"):
                tx.save_installation(installation(1, **{field: value}))
            assert tx.get_installation("ins_001") == installation(1)
            assert tx.find_installation("key_001", "pc-1") == installation(1)

    def test_installations_are_listed_per_key_by_id_in_pages(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            for n in (3, 1, 2):
                tx.add_installation(installation(n))
            tx.add_installation(installation(8, key_id="key_002"))
        with store.transaction() as tx:
            page = tx.list_installations("key_001", after=None, limit=2)
            assert [i.id for i in page] == ["ins_001", "ins_002"]
            rest = tx.list_installations("key_001", after="ins_002", limit=2)
            assert [i.id for i in rest] == ["ins_003"]
            assert [i.id for i in tx.list_installations("key_002", after=None, limit=5)] == [
                "ins_008"
            ]


# -- computer blocks -----------------------------------------------------------------------


class TestComputerBlocks:
    def test_saved_block_is_found_for_its_account_and_computer(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1"))
        with store.transaction() as tx:
            assert tx.find_computer_blocks("acc_1", "pc-1") == [block("pc-1")]
            assert tx.find_computer_blocks("acc_2", "pc-1") == []
            assert tx.find_computer_blocks("acc_1", "pc-2") == []

    def test_account_wide_block_is_stored_with_key_id_none(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", key_id=None))
        with store.transaction() as tx:
            (found,) = tx.find_computer_blocks("acc_1", "pc-1")
            assert found.key_id is None
            assert found == block("pc-1", key_id=None)

    def test_find_returns_only_that_computers_blocks_account_wide_first(
        self, store: MemoryStore
    ) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", key_id="key_002"))
            tx.save_computer_block(block("pc-2", key_id=None))
            tx.save_computer_block(block("pc-1", key_id="key_001"))
            tx.save_computer_block(block("pc-1", key_id=None))
            tx.save_computer_block(block("pc-0", key_id="key_001"))
        with store.transaction() as tx:
            found = tx.find_computer_blocks("acc_1", "pc-1")
            assert [(b.computer_id, b.key_id) for b in found] == [
                ("pc-1", None),
                ("pc-1", "key_001"),
                ("pc-1", "key_002"),
            ]
            assert [b.sort_key for b in found] == sorted(b.sort_key for b in found)

    @pytest.mark.parametrize("wanted", ["pc1", "pc10", "pc1 ", "pc"])
    def test_computer_id_that_is_a_prefix_of_another_is_not_mixed_up(
        self, store: MemoryStore, wanted: str
    ) -> None:
        """Blocks of "pc1" are not blocks of "pc10", "pc1 " or "pc", and the other way round."""
        computers = ["pc", "pc1", "pc1 ", "pc10", "pc1-x"]
        with store.transaction() as tx:
            for computer in computers:
                tx.save_computer_block(block(computer, key_id=None))
                tx.save_computer_block(block(computer, key_id="key_001"))
        with store.transaction() as tx:
            found = tx.find_computer_blocks("acc_1", wanted)
            assert [(b.computer_id, b.key_id) for b in found] == [
                (wanted, None),
                (wanted, "key_001"),
            ]

    def test_prefix_computer_without_blocks_finds_none(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc10", key_id=None))
            tx.save_computer_block(block("pc1x", key_id="key_001"))
            assert tx.find_computer_blocks("acc_1", "pc1") == []

    def test_blocks_of_another_account_are_not_found(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", acc="acc_2", key_id=None))
            tx.save_computer_block(block("pc-1", acc="acc_1", key_id="key_001"))
            assert tx.find_computer_blocks("acc_1", "pc-1") == [block("pc-1", key_id="key_001")]
            assert tx.find_computer_blocks("acc_2", "pc-1") == [
                block("pc-1", acc="acc_2", key_id=None)
            ]

    def test_one_block_per_scope_may_coexist(self, store: MemoryStore) -> None:
        """An account-wide block and key blocks of one computer are separate records."""
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", key_id=None))
            tx.save_computer_block(block("pc-1", key_id="key_001"))
            tx.save_computer_block(block("pc-1", key_id="key_002"))
            assert len(tx.find_computer_blocks("acc_1", "pc-1")) == 3
            assert len(tx.list_computer_blocks("acc_1", after=None, limit=9)) == 3

    @pytest.mark.parametrize("key_id", [None, "key_001"])
    def test_saving_the_same_scope_again_replaces_without_listing_twice(
        self, store: MemoryStore, key_id: str | None
    ) -> None:
        """save upserts by (account_id, computer_id, key_id)."""
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", key_id=key_id))
            tx.save_computer_block(block("pc-1", key_id=key_id, notes="stolen"))
            assert tx.find_computer_blocks("acc_1", "pc-1") == [
                block("pc-1", key_id=key_id, notes="stolen")
            ]
            assert tx.list_computer_blocks("acc_1", after=None, limit=9) == [
                block("pc-1", key_id=key_id, notes="stolen")
            ]

    def test_replacing_one_scope_leaves_the_others(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", key_id=None))
            tx.save_computer_block(block("pc-1", key_id="key_001"))
            tx.save_computer_block(block("pc-1", key_id="key_001", notes="again"))
            assert tx.find_computer_blocks("acc_1", "pc-1") == [
                block("pc-1", key_id=None),
                block("pc-1", key_id="key_001", notes="again"),
            ]

    @pytest.mark.parametrize(
        ("deleted", "left"),
        [(None, ["key_001", "key_002"]), ("key_001", [None, "key_002"])],
        ids=["account-wide", "one-key"],
    )
    def test_delete_lifts_only_the_block_of_that_scope(
        self, store: MemoryStore, deleted: str | None, left: list[str | None]
    ) -> None:
        with store.transaction() as tx:
            for key_id in (None, "key_001", "key_002"):
                tx.save_computer_block(block("pc-1", key_id=key_id))
            tx.save_computer_block(block("pc-2", key_id=deleted))
            tx.delete_computer_block("acc_1", "pc-1", deleted)
        with store.transaction() as tx:
            assert [b.key_id for b in tx.find_computer_blocks("acc_1", "pc-1")] == left
            assert tx.find_computer_blocks("acc_1", "pc-2") == [block("pc-2", key_id=deleted)]
            assert [
                (b.computer_id, b.key_id)
                for b in tx.list_computer_blocks("acc_1", after=None, limit=9)
            ] == [("pc-1", k) for k in left] + [("pc-2", deleted)]

    def test_delete_of_a_prefix_computer_leaves_the_longer_one(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc1", key_id=None))
            tx.save_computer_block(block("pc10", key_id=None))
            tx.delete_computer_block("acc_1", "pc1", None)
            assert tx.find_computer_blocks("acc_1", "pc1") == []
            assert tx.find_computer_blocks("acc_1", "pc10") == [block("pc10", key_id=None)]

    def test_delete_in_another_account_leaves_this_one(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", key_id=None))
            tx.delete_computer_block("acc_2", "pc-1", None)
            assert tx.find_computer_blocks("acc_1", "pc-1") == [block("pc-1", key_id=None)]

    @pytest.mark.parametrize(
        ("computer", "key_id"), [("pc-404", None), ("pc-1", "key_002"), ("pc-1", None)]
    )
    def test_deleting_a_missing_block_is_a_no_op(
        self, store: MemoryStore, computer: str, key_id: str | None
    ) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-1", key_id="key_001"))
            tx.delete_computer_block("acc_1", computer, key_id)
            assert tx.list_computer_blocks("acc_1", after=None, limit=9) == [
                block("pc-1", key_id="key_001")
            ]

    def test_blocks_are_listed_per_account_by_sort_key_in_pages(self, store: MemoryStore) -> None:
        """Paging uses ComputerBlock.sort_key as the cursor: by computer, account-wide first."""
        with store.transaction() as tx:
            for computer, key_id in [
                ("pc-b", "key_001"),
                ("pc-a", "key_002"),
                ("pc-b", None),
                ("pc-a", None),
                ("pc-c", "key_001"),
            ]:
                tx.save_computer_block(block(computer, key_id=key_id))
            tx.save_computer_block(block("pc-z", acc="acc_2"))
        with store.transaction() as tx:
            pages = []
            after = None
            while True:
                page = tx.list_computer_blocks("acc_1", after=after, limit=2)
                if not page:
                    break
                pages.append([(b.computer_id, b.key_id) for b in page])
                after = page[-1].sort_key
            assert pages == [
                [("pc-a", None), ("pc-a", "key_002")],
                [("pc-b", None), ("pc-b", "key_001")],
                [("pc-c", "key_001")],
            ]
            assert [
                b.computer_id for b in tx.list_computer_blocks("acc_2", after=None, limit=2)
            ] == ["pc-z"]
            assert tx.list_computer_blocks("acc_none", after=None, limit=2) == []

    def test_paging_after_the_account_wide_block_continues_with_that_computers_key_blocks(
        self, store: MemoryStore
    ) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc1", key_id=None))
            tx.save_computer_block(block("pc1", key_id="key_001"))
            tx.save_computer_block(block("pc10", key_id=None))
            rest = tx.list_computer_blocks(
                "acc_1", after=block("pc1", key_id=None).sort_key, limit=9
            )
            assert [(b.computer_id, b.key_id) for b in rest] == [
                ("pc1", "key_001"),
                ("pc10", None),
            ]

    def test_paging_after_a_cursor_that_is_not_stored(self, store: MemoryStore) -> None:
        with store.transaction() as tx:
            tx.save_computer_block(block("pc-a", key_id=None))
            tx.save_computer_block(block("pc-c", key_id=None))
            rest = tx.list_computer_blocks("acc_1", after="pc-b\t", limit=9)
            assert [b.computer_id for b in rest] == ["pc-c"]


# -- rollback ------------------------------------------------------------------------------


class _Abort(Exception):
    pass


def _seed(store: MemoryStore) -> None:
    with store.transaction() as tx:
        tx.add_license_key(key(1))
        tx.add_install_invitations([invitation(1)])
        tx.add_installation(installation(1))
        tx.save_computer_block(block("pc-blocked"))
        tx.save_computer_block(block("pc-blocked", key_id=None))
        tx.save_computer_block(block("pc-other", key_id="key_002"))


def _snapshot(store: MemoryStore) -> dict[str, object]:
    with store.transaction() as tx:
        return {
            "keys": tx.list_license_keys("acc_1", after=None, limit=99),
            "key_by_value": [
                tx.find_license_key_by_value_hash("acc_1", h) for h in (b"vh1", b"vh2")
            ],
            "invitations": tx.list_install_invitations("key_001", after=None, limit=99),
            "invitations_key2": tx.list_install_invitations("key_002", after=None, limit=99),
            "by_code": [
                tx.find_install_invitation_by_code_hash(h) for h in (b"code1", b"code2", b"code3")
            ],
            "by_itoken": [
                tx.find_install_invitation_by_token_hash(h) for h in (b"itok1", b"itok2")
            ],
            "installations": tx.list_installations("key_001", after=None, limit=99),
            "by_computer": [tx.find_installation("key_001", c) for c in ("pc-1", "pc-2")],
            "by_ntoken": [
                tx.find_installation_by_token_hash(h) for h in (b"ntok1", b"fresh", b"ntok2")
            ],
            "blocks": tx.list_computer_blocks("acc_1", after=None, limit=99),
            "block_find": [
                tx.find_computer_blocks("acc_1", c) for c in ("pc-blocked", "pc-new", "pc-other")
            ],
        }


def _write_everything_then_fail(store: MemoryStore) -> None:
    with store.transaction() as tx:
        tx.add_license_key(key(2))
        tx.save_license_key(attrs.evolve(key(1), seats_used=3))
        tx.add_install_invitations([invitation(2), invitation(3, key_id="key_002")])
        tx.save_install_invitation(invitation(1, activations=1))
        tx.add_installation(installation(2))
        tx.save_installation(installation(1, token_hash=b"fresh", computer_name="X"))
        tx.save_computer_block(block("pc-new"))
        tx.save_computer_block(block("pc-new", key_id=None))
        tx.save_computer_block(block("pc-blocked", notes="changed"))
        tx.delete_computer_block("acc_1", "pc-blocked", "key_001")
        tx.delete_computer_block("acc_1", "pc-blocked", None)
        tx.save_computer_block(block("pc-blocked", key_id="key_003"))
        tx.save_computer_block(block("pc-other", key_id="key_002", notes="changed"))
        # The writes are visible inside the transaction before it fails.
        assert tx.find_installation_by_token_hash(b"fresh") is not None
        assert tx.get_license_key("key_002") == key(2)
        raise _Abort


def _delete_block_then_fail(store: MemoryStore, key_id: str | None) -> None:
    with store.transaction() as tx:
        tx.delete_computer_block("acc_1", "pc-blocked", key_id)
        assert key_id not in [b.key_id for b in tx.find_computer_blocks("acc_1", "pc-blocked")]
        raise _Abort


def _save_block_then_fail(store: MemoryStore, saved: ComputerBlock) -> None:
    with store.transaction() as tx:
        tx.save_computer_block(saved)
        assert saved in tx.find_computer_blocks("acc_1", saved.computer_id)
        raise _Abort


def _add_then_clash(store: MemoryStore) -> None:
    with store.transaction() as tx:
        tx.add_license_key(key(2))
        tx.add_installation(installation(2))
        tx.add_installation(installation(3, computer_id="pc-1"))


class TestRollback:
    def test_every_licensing_write_is_undone_when_the_block_raises(
        self, store: MemoryStore
    ) -> None:
        _seed(store)
        before = _snapshot(store)
        with pytest.raises(_Abort):
            _write_everything_then_fail(store)
        assert _snapshot(store) == before

    @pytest.mark.parametrize("key_id", [None, "key_001"])
    def test_rollback_restores_a_block_deleted_in_the_failed_transaction(
        self, store: MemoryStore, key_id: str | None
    ) -> None:
        _seed(store)
        before = _snapshot(store)
        with pytest.raises(_Abort):
            _delete_block_then_fail(store, key_id)
        with store.transaction() as tx:
            assert tx.find_computer_blocks("acc_1", "pc-blocked") == [
                block("pc-blocked", key_id=None),
                block("pc-blocked"),
            ]
            assert len(tx.list_computer_blocks("acc_1", after=None, limit=9)) == 3
        assert _snapshot(store) == before

    @pytest.mark.parametrize(
        "saved",
        [
            block("pc-new", key_id=None),
            block("pc-blocked", key_id="key_009"),
            block("pc-blocked", key_id=None, notes="replaced"),
            block("pc-other", key_id="key_002", notes="replaced"),
        ],
        ids=["new-computer", "new-scope", "replace-account-wide", "replace-key-block"],
    )
    def test_rollback_undoes_a_block_saved_in_the_failed_transaction(
        self, store: MemoryStore, saved: ComputerBlock
    ) -> None:
        """A new block disappears, a replaced one comes back, and listings are as before."""
        _seed(store)
        before = _snapshot(store)
        with pytest.raises(_Abort):
            _save_block_then_fail(store, saved)
        assert _snapshot(store) == before
        with store.transaction() as tx:
            assert saved not in tx.list_computer_blocks("acc_1", after=None, limit=99)

    def test_writes_before_a_duplicate_key_error_are_undone(self, store: MemoryStore) -> None:
        _seed(store)
        with pytest.raises(DuplicateKey):
            _add_then_clash(store)
        with store.transaction() as tx:
            assert tx.get_license_key("key_002") is None
            assert tx.get_installation("ins_002") is None
            assert tx.find_installation_by_token_hash(b"ntok2") is None
            assert tx.find_installation("key_001", "pc-2") is None
            assert [k.id for k in tx.list_license_keys("acc_1", after=None, limit=9)] == ["key_001"]

    def test_committed_writes_survive(self, store: MemoryStore) -> None:
        _seed(store)
        with store.transaction() as tx:
            assert tx.get_license_key("key_001") == key(1)
            assert tx.get_installation("ins_001") == installation(1)

    def test_dump_includes_licensing_records(self, store: MemoryStore) -> None:
        _seed(store)
        records = store.dump()
        assert key(1) in records
        assert invitation(1) in records
        assert installation(1) in records
        assert block("pc-blocked") in records
        assert block("pc-blocked", key_id=None) in records


# -- serialization round trip --------------------------------------------------------------

aware = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)
maybe_aware = st.none() | aware
text = st.text(max_size=16)
maybe_text = st.none() | text
blobs = st.binary(max_size=32)
counts = st.integers(min_value=0, max_value=10_000)

license_keys = st.builds(
    LicenseKey,
    id=text,
    account_id=text,
    product=text,
    seats=counts,
    seats_used=counts,
    created_at=aware,
    created_by=text,
    value_hash=blobs,
    value_ciphertext=blobs,
    expires_at=maybe_aware,
    status=st.sampled_from(KeyStatus),
    updated_at=maybe_aware,
)
install_invitations = st.builds(
    InstallInvitation,
    id=text,
    account_id=text,
    key_id=text,
    email=text,
    language=text,
    invited_by=text,
    created_at=aware,
    expires_at=aware,
    code_hash=blobs,
    token_hash=blobs,
    secret_ciphertext=blobs,
    max_activations=counts,
    activations=counts,
    last_activated_at=maybe_aware,
    revoked_at=maybe_aware,
    revoked_by=maybe_text,
    sent_count=counts,
    last_sent_at=maybe_aware,
)
installations = st.builds(
    Installation,
    id=text,
    account_id=text,
    key_id=text,
    computer_id=text,
    computer_name=text,
    email=text,
    invitation_id=text,
    activated_at=aware,
    last_seen_at=aware,
    token_hash=blobs,
    status=st.sampled_from(InstallationStatus),
    deactivated_at=maybe_aware,
    deactivated_by=maybe_text,
)
computer_blocks = st.builds(
    ComputerBlock,
    account_id=text,
    computer_id=text,
    key_id=maybe_text,
    blocked_at=aware,
    blocked_by=text,
    notes=text,
)
memberships = st.builds(
    Membership,
    account_id=text,
    user_id=text,
    role=st.sampled_from(Role),
    status=st.sampled_from(MemberStatus),
    joined_at=aware,
    updated_at=aware,
    changed_by=maybe_text,
    notes=text,
    admin_grant=counts,
    license_keys=st.frozensets(text, max_size=5),
)
license_key_views = st.builds(
    LicenseKeyView,
    id=text,
    account_id=text,
    product=text,
    seats=counts,
    seats_used=counts,
    seats_free=counts,
    status=st.sampled_from(KeyStatus),
    expires_at=maybe_aware,
    created_at=aware,
    masked_value=maybe_text,
)
install_invitation_views = st.builds(
    InstallInvitationView,
    id=text,
    account_id=text,
    key_id=text,
    email=text,
    language=text,
    state=st.sampled_from(InstallInvitationState),
    invited_by=text,
    created_at=aware,
    expires_at=aware,
    max_activations=counts,
    activations=counts,
    sent_count=counts,
    last_sent_at=maybe_aware,
    revoked_at=maybe_aware,
)
installation_views = installations.map(InstallationView.of)
member_views = st.builds(
    MemberView,
    user_id=text,
    email=text,
    name=text,
    role=st.sampled_from(Role),
    status=st.sampled_from(MemberStatus),
    joined_at=aware,
    updated_at=aware,
    changed_by=maybe_text,
    notes=text,
    license_keys=st.lists(text, max_size=4).map(lambda ids: tuple(sorted(ids))),
)

RECORDS = [
    (LicenseKey, license_keys),
    (InstallInvitation, install_invitations),
    (Installation, installations),
    (ComputerBlock, computer_blocks),
    (Membership, memberships),
    (LicenseKeyView, license_key_views),
    (InstallInvitationView, install_invitation_views),
    (InstallationView, installation_views),
    (MemberView, member_views),
]


class TestSerialization:
    @pytest.mark.parametrize(
        ("record_type", "records"), RECORDS, ids=[t.__name__ for t, _ in RECORDS]
    )
    @given(data=st.data())
    def test_round_trip_through_json(
        self, record_type: type, records: st.SearchStrategy[Any], data: st.DataObject
    ) -> None:
        record = data.draw(records)
        plain = json.loads(json.dumps(unstructure(record)))
        assert structure(plain, record_type) == record

    @given(record=memberships)
    def test_license_keys_become_a_sorted_list(self, record: Membership) -> None:
        plain = unstructure(record)
        assert plain["license_keys"] == sorted(record.license_keys)
        assert isinstance(structure(plain, Membership).license_keys, frozenset)

    def test_membership_license_keys_example(self) -> None:
        member = Membership(
            account_id="acc_1",
            user_id="u",
            role=Role.REGULAR_MEMBER,
            status=MemberStatus.ACTIVE,
            joined_at=T0,
            updated_at=T0,
            license_keys=frozenset({"key_b", "key_a", "key_c"}),
        )
        plain = unstructure(member)
        assert plain["license_keys"] == ["key_a", "key_b", "key_c"]
        assert structure(plain, Membership) == member

    def test_membership_without_license_keys_field_reads_as_none_granted(self) -> None:
        """Data written before License Administrators existed still loads."""
        member = Membership(
            account_id="acc_1",
            user_id="u",
            role=Role.REGULAR_MEMBER,
            status=MemberStatus.ACTIVE,
            joined_at=T0,
            updated_at=T0,
        )
        plain = unstructure(member)
        del plain["license_keys"]
        assert structure(plain, Membership).license_keys == frozenset()

    def test_license_key_plain_data_shapes(self) -> None:
        plain = unstructure(attrs.evolve(key(1), expires_at=LATER))
        assert plain["status"] == "active"
        assert plain["expires_at"] == LATER.isoformat()
        assert plain["value_hash"] == "dmgx"
        assert plain["created_at"] == T0.isoformat()

    @pytest.mark.parametrize("key_id", [None, "key_001"])
    def test_computer_block_scope_survives_the_round_trip(self, key_id: str | None) -> None:
        """An account-wide block (key_id None) stays account-wide after JSON."""
        plain = json.loads(json.dumps(unstructure(block("pc-1", key_id=key_id))))
        assert plain["key_id"] == key_id
        assert structure(plain, ComputerBlock) == block("pc-1", key_id=key_id)

    def test_installation_status_is_its_value(self) -> None:
        plain = unstructure(installation(1, status=InstallationStatus.DEACTIVATED))
        assert plain["status"] == "deactivated"
        assert plain["token_hash"] == "bnRvazE"
