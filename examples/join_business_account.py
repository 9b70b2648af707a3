"""Plays the administrator guide's "invite users to join a business account" page end to end.

An administrator creates a business account and invites two people: one who already has a
personal account and one who does not. Both accept. One is promoted to Account Administrator
with a note; the promotion shows only after they log in again. Then a demotion applies at once.

Run it with:  python examples/join_business_account.py
"""

from __future__ import annotations

import secrets

from licensekit import LicenseKit, MemoryStore, PermissionDenied, Role, Session
from licensekit.testing import RecordingMailer


def main() -> None:
    """Run the scenario and print what happens at each step."""
    mailer = RecordingMailer()
    kit = LicenseKit(
        MemoryStore(),
        mailer,
        secret=secrets.token_bytes(32),
        join_url="https://portal.example.com/join?token={token}",
        verify_url="https://portal.example.com/verify?token={token}",
    )

    print("1. Ada registers, proves her address with the emailed link, and creates the")
    print("   business account 'Analytical Engines Ltd'.")
    kit.register_user("ada@example.com", "correct horse battery", name="Ada")
    kit.send_email_verification(kit.log_in("ada@example.com", "correct horse battery"))
    ada = kit.verify_email(
        mailer.last_token(to="ada@example.com"), password="correct horse battery"
    )
    account = kit.create_business_account(ada, "Analytical Engines Ltd")

    print("2. Charles already has a personal account, his address proven; Grace has none.")
    kit.register_user(
        "charles@example.com", "difference engine 1822", name="Charles", email_verified=True
    )

    print("3. Ada invites both, in English, for seven days.")
    batch = kit.invite_members(ada, account.id, ["charles@example.com", "Grace@Example.com"])
    for invitation in batch.invited:
        print(f"   invited {invitation.email:<22} expires {invitation.expires_at:%Y-%m-%d}")
    print("\n   --- the email Grace receives ---")
    print("   " + mailer.last(to="grace@example.com").text.replace("\n", "\n   "))

    print("4. Charles accepts with his current password; Grace chooses one.")
    kit.accept_join_invitation(
        mailer.last_token(to="charles@example.com"), password="difference engine 1822"
    )
    grace_token = mailer.last_token(to="grace@example.com")
    preview = kit.describe_join_invitation(grace_token)
    print(f"   Grace's link: join {preview.account_name!r}, has an account: {preview.user_exists}")
    grace = kit.accept_join_invitation(grace_token, password="cobol runs the world", name="Grace")

    print("5. The Business Account Users list:")
    _print_members(kit, ada, account.id)

    print("6. Ada promotes Grace to Account Administrator, with a note.")
    kit.change_role(
        ada, account.id, grace.user_id, Role.ACCOUNT_ADMINISTRATOR, notes="Runs IT purchasing"
    )
    try:
        kit.list_members(grace, account.id)
    except PermissionDenied as e:
        print(f"   Grace's current session is still a Regular Member: {e}")
    kit.log_out(grace)
    grace = kit.log_in("grace@example.com", "cobol runs the world")
    members = kit.list_members(grace, account.id)
    print(f"   after logging in again Grace sees {len(members.items)} members.")

    print("7. Ada demotes Grace again, while Grace is still logged in.")
    kit.change_role(ada, account.id, grace.user_id, Role.REGULAR_MEMBER, notes="Project over")
    try:
        kit.list_members(grace, account.id)
    except PermissionDenied:
        print("   the demotion applied at once: Grace's open session lost its rights.")

    print("8. The audit trail:")
    for event in kit.list_audit_events(ada, account.id, limit=100).items:
        details = ", ".join(f"{k}={v}" for k, v in sorted(event.details.items()))
        print(f"   {event.at:%H:%M:%S} {event.action.value:<22} {details}")


def _print_members(kit: LicenseKit, session: Session, account_id: str) -> None:
    for member in kit.list_members(session, account_id).items:
        print(f"   {member.email:<22} {member.role.value:<22} {member.status.value}")


if __name__ == "__main__":
    main()
