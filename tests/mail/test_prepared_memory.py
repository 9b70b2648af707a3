"""What ``Templates`` remembers between calls, and the join invitation written from it.

``Templates.prepare`` keeps the parts it wrote for the last few sets of shared values, and
the expiry written in each language to the minute; a join invitation's email is prepared
from its account, inviter, language and expiry, with the invitee's link and token filled in.
Each message must still be exactly the one ``render_join_invitation`` writes, and a
remembered part must never carry one call's instant or secret into another's message.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from licensekit._message import prepared_message
from licensekit._usecases._join import JoinLinks
from licensekit.mail import (
    SUPPORTED_LANGUAGES,
    Message,
    MessageKind,
    Templates,
    default_templates,
    render_join_invitation,
)

JOIN_LINK = "https://portal.example.com/join?token={token}&x=<y>"
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("<>&\"'$\r\n"),
    max_size=30,
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(2001, 1, 1),
    max_value=dt.datetime(2090, 12, 31),
    timezones=st.sampled_from(
        [
            dt.UTC,
            dt.timezone(dt.timedelta(hours=-5)),
            dt.timezone(dt.timedelta(hours=9, minutes=30)),
        ]
    ),
)


def fields(message: Message) -> tuple[Any, ...]:
    return (
        message.to,
        message.subject,
        message.text,
        message.html,
        message.language,
        message.kind,
        dict(message.data),
    )


def join_links(templates: Templates, service_name: str) -> JoinLinks:
    ctx = SimpleNamespace(
        templates=templates,
        links=SimpleNamespace(join=JOIN_LINK),
        settings=SimpleNamespace(service_name=service_name),
    )
    return JoinLinks(ctx, delivery=None)  # type: ignore[arg-type]


@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["ann@example.com", "bob+x@example.org"]),
            st.sampled_from(["Acme", "Acme <Ltd>\r\nBcc: x", ""]) | TEXT,
            st.sampled_from(["boss@example.com", "b&b@example.com"]),
            st.sampled_from(SUPPORTED_LANGUAGES),
            MOMENTS,
            st.text("abcdefXYZ0123456789-_", min_size=1, max_size=40),
        ),
        min_size=1,
        max_size=6,
    ),
    service_name=st.sampled_from(["Licence Hub", 'Hub <"&">']),
)
@settings(max_examples=300, deadline=None)
def test_a_join_invitation_is_the_message_render_join_invitation_writes(
    calls: list[tuple[str, str, str, str, dt.datetime, str]], service_name: str
) -> None:
    templates = Templates()  # its own memory, so every example starts empty
    links = join_links(templates, service_name)
    for to, account_name, inviter, language, expires_at, token in calls:
        made = links.message(
            SimpleNamespace(email=to, language=language, expires_at=expires_at),  # type: ignore[arg-type]
            token,
            SimpleNamespace(name=account_name),  # type: ignore[arg-type]
            SimpleNamespace(email=inviter),  # type: ignore[arg-type]
        )
        expected = render_join_invitation(
            templates=templates,
            to=to,
            account_name=account_name,
            inviter_email=inviter,
            link=JOIN_LINK.replace("{token}", token),
            token=token,
            expires_at=expires_at,
            language=language,
            service_name=service_name,
        )
        assert fields(made) == fields(expected)


def test_one_minute_shares_its_parts_but_each_call_keeps_its_instant() -> None:
    templates = Templates()
    values = {"account_name": "Acme", "inviter": "boss@example.com", "service_name": "Hub"}
    first = dt.datetime(2030, 5, 6, 7, 8, 1, 123456, tzinfo=dt.UTC)
    later = first + dt.timedelta(seconds=30)
    next_minute = first + dt.timedelta(seconds=60)
    messages = [
        templates.prepare(
            MessageKind.JOIN_INVITATION,
            language="en",
            values=values,
            expires_at=moment,
            data={"token": token},
        ).render("ann@example.com", {"link": f"https://x.example/{token}"})
        for moment, token in ((first, "t1"), (later, "t2"), (next_minute, "t3"))
    ]
    assert [m.data["expires_at"] for m in messages] == [
        first.isoformat(),
        later.isoformat(),
        next_minute.isoformat(),
    ]
    assert [m.data["token"] for m in messages] == ["t1", "t2", "t3"]
    assert messages[0].data["expires"] == messages[1].data["expires"]
    assert messages[1].data["expires"] != messages[2].data["expires"]
    assert "https://x.example/t2" in messages[1].text
    assert "t1" not in messages[1].text + messages[1].html


def test_the_memory_stays_small() -> None:
    templates = Templates()
    moment = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    for n in range(1000):
        templates.prepare(
            MessageKind.JOIN_INVITATION,
            language="en",
            values={"account_name": f"Account {n}", "inviter": "a@example.com", "link": "x"},
            expires_at=moment + dt.timedelta(minutes=n),
        )
        templates.resolve(f"de-AT-x-{n}")
    remembered = (templates._written, templates._dates, templates._resolved)
    assert all(0 < len(memory) <= 256 for memory in remembered)
    long_tag = "de-" + "x" * 100_000
    assert templates.resolve(long_tag) == "de"
    assert long_tag not in templates._resolved


def test_a_single_rendering_remembers_nothing_of_its_values() -> None:
    templates = Templates()
    render_join_invitation(
        templates=templates,
        to="ann@example.com",
        account_name="Acme",
        inviter_email="boss@example.com",
        link="https://x.example/secret-token",
        token="secret-token",
        expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        language="en",
        service_name="Hub",
    )
    assert templates._written == {}
    assert default_templates() is not templates


@given(
    subject=TEXT.map(lambda s: " ".join(s.split())),
    text=TEXT,
    data=st.dictionaries(st.text(max_size=5), TEXT, max_size=4),
)
@settings(max_examples=200, deadline=None)
def test_a_prepared_message_is_the_message_its_fields_make(
    subject: str, text: str, data: dict[str, str]
) -> None:
    fields_ = {
        "to": "ann@example.com",
        "subject": subject,
        "text": text,
        "html": f"<p>{text}</p>",
        "language": "en",
        "kind": MessageKind.JOIN_INVITATION,
    }
    made = prepared_message(**fields_, data=dict(data))  # type: ignore[arg-type]
    expected = Message(**fields_, data=data)  # type: ignore[arg-type]
    assert made == expected
    assert fields(made) == fields(expected)
    assert hash(made) == hash(expected)
    assert type(made.data) is type(expected.data)
    # The fields it sets are every field a Message has, none with a validator of its own.
    assert [f.name for f in attrs.fields(Message)] == [
        "to", "subject", "text", "html", "language", "kind", "data",
    ]  # fmt: skip
    assert all(f.validator is None for f in attrs.fields(Message))
    assert not hasattr(Message, "__attrs_post_init__")
