"""The peer: django-organizations inviting one member per call, on a SQLite file.

Runs inside the peer's own virtual environment (Django and django-organizations, never a
dependency of licensekit; ``benchmarks/peer_workloads.py`` makes it), not in licensekit's.
It sets up a minimal Django project in this process (``settings.configure``, a SQLite file,
``migrate``, Django's in-memory ``locmem`` email backend), makes an administrator and an
organization once, then answers commands read from standard input, one JSON object a line,
each with one JSON line on standard output, so that the benchmark can alternate its own runs
with the peer's:

* ``{"path": "form", "count": N}``: N invitations in sequence through
  ``OrganizationUserAddForm`` (validated and saved: a new inactive user, the invitation
  email, the membership row), as the organization's "add member" view does;
* ``{"path": "backend", "count": N}``: ``InvitationBackend.invite_by_email`` (the default
  backend: an inactive user and the invitation email, no membership);
* ``{"path": "bare", "count": N}``: ``ModelInvitation.invite_by_email`` (one
  ``OrganizationInvitation`` row and its email).

Each answer is ``{"seconds": S, "sent": M}``: the wall time of the N calls and how many
emails Django's outbox holds afterwards (checked by the caller). Every address is new.

Usage: ``python django_orgs.py DATABASE [--journal default|wal]``. With ``default`` the file
keeps what Django gives it (SQLite's rollback journal, ``synchronous`` FULL); with ``wal``
it gets licensekit's pragmas (WAL, ``synchronous = FULL``) through Django's
``init_command``. The first output line describes the setup (versions, pragmas).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import django
from django.conf import settings

urlpatterns: list[Any] = []  # filled once Django is set up (the invitation email's link)


def configure(database: str, journal: str) -> None:
    """A minimal Django project: auth, django-organizations, one SQLite file, locmem email."""
    options: dict[str, Any] = {}
    if journal == "wal":
        options["init_command"] = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL"
    settings.configure(
        DEBUG=False,
        SECRET_KEY="peer-benchmark-secret-key-not-for-production-0123456789",  # noqa: S106
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": database,
                "OPTIONS": options,
            }
        },
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "organizations",
        ],
        TEMPLATES=[
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        ],
        ROOT_URLCONF=__name__,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DEFAULT_FROM_EMAIL="portal@example.com",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("--journal", choices=("default", "wal"), default="default")
    args = parser.parse_args()
    configure(args.database, args.journal)

    from django.contrib.auth import get_user_model
    from django.contrib.sites.requests import RequestSite
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.test import RequestFactory
    from django.urls import include, path
    from organizations.backends import invitation_backend
    from organizations.backends.modeled import ModelInvitation
    from organizations.forms import OrganizationUserAddForm
    from organizations.utils import create_organization

    urlpatterns.append(path("invitations/", include(invitation_backend().get_urls())))
    mail.outbox = []  # what the test runner would set up for the locmem backend
    call_command("migrate", verbosity=0, interactive=False)
    admin = get_user_model().objects.create_user(
        "admin", "admin@example.com", "peer benchmark passphrase"
    )
    organization = create_organization(admin, "Bench Corp", "bench-corp")
    request = RequestFactory().post("/")
    request.user = admin
    site = RequestSite(request)
    modeled = ModelInvitation()
    with connection.cursor() as cursor:
        pragmas = {
            name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous")
        }
    versions = {
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "django-organizations": _version("django-organizations"),
        "sqlite": connection.Database.sqlite_version,
    }
    print(json.dumps({"ready": True, "versions": versions, "pragmas": pragmas}), flush=True)

    def form(email: str) -> None:
        added = OrganizationUserAddForm(request, organization, data={"email": email})
        if not added.is_valid():
            raise SystemExit(f"the form refused {email}: {added.errors.as_json()}")
        added.save()

    def backend(email: str) -> None:
        invitation_backend().invite_by_email(
            email, sender=admin, domain=site, organization=organization
        )

    def bare(email: str) -> None:
        modeled.invite_by_email(email, admin, organization)

    paths = {"form": form, "backend": backend, "bare": bare}
    serial = 0
    for line in sys.stdin:
        command = json.loads(line)
        invite = paths[command["path"]]
        emails = [f"peer{serial + n}@example.com" for n in range(command["count"])]
        serial += len(emails)
        mail.outbox.clear()
        start = time.perf_counter()
        for email in emails:
            invite(email)
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "sent": len(mail.outbox)}), flush=True)


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


if __name__ == "__main__":
    main()
