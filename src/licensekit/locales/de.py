"""German (Deutsch) email texts for licensekit, tag ``de``.

Data only, in the format :mod:`licensekit.locales` describes.
"""

__all__ = ["DATE_FORMAT", "MONTHS", "NAME", "NOTES_LABEL", "ROLE_NAMES", "TAG", "TEMPLATES"]

TAG: str = "de"
NAME: str = "Deutsch"
MONTHS: tuple[str, ...] = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
DATE_FORMAT: str = "{day}. {month} {year}, {time} Uhr UTC"
ROLE_NAMES: dict[str, str] = {
    "regular_member": "Reguläres Mitglied",
    "account_administrator": "Kontoadministrator",
}
NOTES_LABEL: str = "Anmerkung des Administrators"
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "join_invitation": (
        "Einladung zum Geschäftskonto ${account_name} bei ${service_name}",
        (
            "Guten Tag,\n"
            "\n"
            "${inviter} lädt Sie ein, dem Geschäftskonto „${account_name}“ bei ${service_name} "
            "beizutreten.\n"
            "\n"
            "Öffnen Sie diesen persönlichen Link, um die Einladung anzunehmen:\n"
            "${link}\n"
            "\n"
            "Wenn Sie bereits ein persönliches Konto haben, melden Sie sich mit Ihrem bisherigen "
            "Passwort an. Andernfalls wählen Sie ein Passwort, und Ihr persönliches Konto wird für "
            "Sie angelegt.\n"
            "\n"
            "Der Link kann nur einmal verwendet werden und verliert am ${expires} seine "
            "Gültigkeit. Er wurde ausschließlich für ${recipient} erstellt; bitte leiten Sie ihn "
            "nicht weiter.\n"
            "\n"
            "Falls Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht einfach "
            "ignorieren.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>${inviter} lädt Sie ein, dem Geschäftskonto <strong>${account_name}</strong> bei "
            "${service_name} beizutreten.</p>\n"
            '<p><a href="${link}">Einladung annehmen</a></p>\n'
            "<p>Wenn Sie bereits ein persönliches Konto haben, melden Sie sich mit Ihrem "
            "bisherigen Passwort an. Andernfalls wählen Sie ein Passwort, und Ihr persönliches "
            "Konto wird für Sie angelegt.</p>\n"
            "<p>Der Link kann nur einmal verwendet werden und verliert am ${expires} seine "
            "Gültigkeit. Er wurde ausschließlich für ${recipient} erstellt; bitte leiten Sie ihn "
            "nicht weiter.</p>\n"
            "<p>Falls Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht einfach "
            "ignorieren.</p>\n"
        ),
    ),
    "install_invitation": (
        "${product} für ${account_name} installieren",
        (
            "Guten Tag,\n"
            "\n"
            "${inviter} lädt Sie ein, ${product} zu installieren. Die Lizenz stellt das "
            "Geschäftskonto „${account_name}“ bei ${service_name} bereit.\n"
            "\n"
            "So gehen Sie vor:\n"
            "\n"
            "1. Laden Sie das Installationsprogramm über Ihren persönlichen Link herunter:\n"
            "   ${link}\n"
            "2. Führen Sie das Installationsprogramm aus. In der Regel aktiviert es ${product} "
            "selbstständig, und Sie müssen nichts weiter tun.\n"
            "3. Nur wenn Sie nach einem Aktivierungscode gefragt werden, geben Sie diesen Code ein:"
            "\n"
            "   ${code}\n"
            "\n"
            "Wichtig zum Code: Es ist ein vorübergehender, persönlicher Aktivierungscode. Er ist "
            "nicht der Lizenzschlüssel, gilt nur für diese Lizenz und verliert am ${expires} seine "
            "Gültigkeit. Der Download-Link läuft zum selben Zeitpunkt ab. Link und Code wurden "
            "ausschließlich für ${recipient} erstellt; bitte geben Sie beides nicht weiter.\n"
            "\n"
            "Falls etwas nicht wie beschrieben funktioniert oder der Code abgelaufen ist, wenden "
            "Sie sich bitte an ${inviter}. Wenn Sie diese Nachricht nicht erwartet haben, können "
            "Sie sie ignorieren.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>${inviter} lädt Sie ein, <strong>${product}</strong> zu installieren. Die Lizenz "
            "stellt das Geschäftskonto <strong>${account_name}</strong> bei ${service_name} "
            "bereit.</p>\n"
            "<p>So gehen Sie vor:</p>\n"
            "<ol>\n"
            '<li>Laden Sie das Installationsprogramm über Ihren <a href="${link}">persönlichen '
            "Download-Link</a> herunter.</li>\n"
            "<li>Führen Sie das Installationsprogramm aus. In der Regel aktiviert es ${product} "
            "selbstständig, und Sie müssen nichts weiter tun.</li>\n"
            "<li>Nur wenn Sie nach einem Aktivierungscode gefragt werden, geben Sie diesen Code "
            "ein: <code>${code}</code></li>\n"
            "</ol>\n"
            "<p>Wichtig zum Code: Es ist ein vorübergehender, persönlicher Aktivierungscode. Er "
            "ist <strong>nicht</strong> der Lizenzschlüssel, gilt nur für diese Lizenz und "
            "verliert am ${expires} seine Gültigkeit. Der Download-Link läuft zum selben Zeitpunkt "
            "ab. Link und Code wurden ausschließlich für ${recipient} erstellt; bitte geben Sie "
            "beides nicht weiter.</p>\n"
            "<p>Falls etwas nicht wie beschrieben funktioniert oder der Code abgelaufen ist, "
            "wenden Sie sich bitte an ${inviter}. Wenn Sie diese Nachricht nicht erwartet haben, "
            "können Sie sie ignorieren.</p>\n"
        ),
    ),
    "member_blocked": (
        "Ihr Zugang zu ${account_name} bei ${service_name} wurde gesperrt",
        (
            "Guten Tag,\n"
            "\n"
            "${actor} hat Sie im Geschäftskonto „${account_name}“ bei ${service_name} gesperrt. "
            "Ihr Zugang zu diesem Geschäftskonto ist damit ausgesetzt.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Ihr persönliches Konto ist davon nicht betroffen: Sie können sich weiterhin anmelden "
            "und es wie gewohnt nutzen. Ein Administrator von „${account_name}“ kann die Sperre "
            "jederzeit aufheben. Bei Fragen wenden Sie sich bitte an einen Administrator des "
            "Kontos.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>${actor} hat Sie im Geschäftskonto <strong>${account_name}</strong> bei "
            "${service_name} gesperrt. Ihr Zugang zu diesem Geschäftskonto ist damit "
            "ausgesetzt.</p>\n"
            "${notes_block}\n"
            "<p>Ihr persönliches Konto ist davon nicht betroffen: Sie können sich weiterhin "
            "anmelden und es wie gewohnt nutzen. Ein Administrator von <strong>${account_name}"
            "</strong> kann die Sperre jederzeit aufheben. Bei Fragen wenden Sie sich bitte an "
            "einen Administrator des Kontos.</p>\n"
        ),
    ),
    "member_removed": (
        "Sie sind nicht mehr Mitglied von ${account_name} bei ${service_name}",
        (
            "Guten Tag,\n"
            "\n"
            "${actor} hat Sie aus dem Geschäftskonto „${account_name}“ bei ${service_name} "
            "entfernt. Sie sind nicht mehr Mitglied dieses Kontos. Installationen und Lizenzen, "
            "die Sie dort verwaltet haben, stehen Ihnen über dieses Konto nicht mehr zur Verfügung."
            "\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Ihr persönliches Konto bleibt unverändert bestehen: Sie können sich weiterhin "
            "anmelden und es nutzen. Bei Fragen wenden Sie sich bitte an einen Administrator von „"
            "${account_name}“.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>${actor} hat Sie aus dem Geschäftskonto <strong>${account_name}</strong> bei "
            "${service_name} entfernt. Sie sind nicht mehr Mitglied dieses Kontos. Installationen "
            "und Lizenzen, die Sie dort verwaltet haben, stehen Ihnen über dieses Konto nicht mehr "
            "zur Verfügung.</p>\n"
            "${notes_block}\n"
            "<p>Ihr persönliches Konto bleibt unverändert bestehen: Sie können sich weiterhin "
            "anmelden und es nutzen. Bei Fragen wenden Sie sich bitte an einen Administrator von "
            "<strong>${account_name}</strong>.</p>\n"
        ),
    ),
    "role_changed": (
        "Ihre Rolle in ${account_name} bei ${service_name} wurde geändert",
        (
            "Guten Tag,\n"
            "\n"
            "${actor} hat Ihre Rolle im Geschäftskonto „${account_name}“ bei ${service_name} "
            "geändert.\n"
            "\n"
            "Bisherige Rolle: ${old_role}\n"
            "Neue Rolle: ${new_role}\n"
            "\n"
            "Wenn Ihre neue Rolle Ihnen weniger Rechte einräumt, gilt die Änderung sofort, auch "
            "wenn Sie bereits angemeldet sind. Räumt sie Ihnen mehr Rechte ein, melden Sie sich "
            "bitte ab und erneut an, um diese nutzen zu können.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Bei Fragen wenden Sie sich bitte an einen Administrator von „${account_name}“.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>${actor} hat Ihre Rolle im Geschäftskonto <strong>${account_name}</strong> bei "
            "${service_name} geändert.</p>\n"
            "<ul>\n"
            "<li>Bisherige Rolle: <strong>${old_role}</strong></li>\n"
            "<li>Neue Rolle: <strong>${new_role}</strong></li>\n"
            "</ul>\n"
            "<p>Wenn Ihre neue Rolle Ihnen weniger Rechte einräumt, gilt die Änderung sofort, auch "
            "wenn Sie bereits angemeldet sind. Räumt sie Ihnen mehr Rechte ein, melden Sie sich "
            "bitte ab und erneut an, um diese nutzen zu können.</p>\n"
            "${notes_block}\n"
            "<p>Bei Fragen wenden Sie sich bitte an einen Administrator von <strong>${account_name}"
            "</strong>.</p>\n"
        ),
    ),
    "email_verification": (
        "Bestätigen Sie Ihre E-Mail-Adresse für ${service_name}",
        (
            "Guten Tag,\n"
            "\n"
            "bei ${service_name} hat sich jemand mit der Adresse ${recipient} registriert, "
            "vermutlich Sie selbst. Öffnen Sie bitte den folgenden Link, um zu bestätigen, dass "
            "diese Adresse Ihnen gehört:\n"
            "${link}\n"
            "\n"
            "Der Link kann nur einmal verwendet werden und verliert am ${expires} seine "
            "Gültigkeit. Nach dem Öffnen werden Sie gebeten, das Passwort Ihres persönlichen "
            "Kontos festzulegen; das bei der Registrierung gewählte Passwort können Sie dabei auch "
            "beibehalten. Ein Passwort, das womöglich eine andere Person für diese Adresse gesetzt "
            "hat, wird damit ungültig, und alle bestehenden Anmeldungen des Kontos werden "
            "beendet.\n"
            "\n"
            "Falls Sie sich nicht registriert haben, können Sie diese Nachricht ignorieren. Sie "
            "können den Link aber auch öffnen, um sicherzugehen, dass niemand sonst Ihre Adresse "
            "verwendet.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>bei ${service_name} hat sich jemand mit der Adresse ${recipient} registriert, "
            "vermutlich Sie selbst. Öffnen Sie bitte den folgenden Link, um zu bestätigen, dass "
            "diese Adresse Ihnen gehört:</p>\n"
            '<p><a href="${link}">E-Mail-Adresse bestätigen</a></p>\n'
            "<p>Der Link kann nur einmal verwendet werden und verliert am ${expires} seine "
            "Gültigkeit. Nach dem Öffnen werden Sie gebeten, das Passwort Ihres persönlichen "
            "Kontos festzulegen; das bei der Registrierung gewählte Passwort können Sie dabei auch "
            "beibehalten. Ein Passwort, das womöglich eine andere Person für diese Adresse gesetzt "
            "hat, wird damit ungültig, und alle bestehenden Anmeldungen des Kontos werden "
            "beendet.</p>\n"
            "<p>Falls Sie sich nicht registriert haben, können Sie diese Nachricht ignorieren. Sie "
            "können den Link aber auch öffnen, um sicherzugehen, dass niemand sonst Ihre Adresse "
            "verwendet.</p>\n"
        ),
    ),
    "password_reset": (
        "Neues Passwort für ${service_name} festlegen",
        (
            "Guten Tag,\n"
            "\n"
            "für das persönliche Konto ${recipient} bei ${service_name} wurde ein neues Passwort "
            "angefordert. Über diesen Link können Sie es festlegen:\n"
            "${link}\n"
            "\n"
            "Der Link kann nur einmal verwendet werden und verliert am ${expires} seine "
            "Gültigkeit. Sobald Sie das neue Passwort festgelegt haben, werden Sie überall "
            "abgemeldet und melden sich anschließend mit dem neuen Passwort wieder an.\n"
            "\n"
            "Falls Sie kein neues Passwort angefordert haben, ignorieren Sie diese Nachricht "
            "einfach: Ihr bisheriges Passwort bleibt unverändert.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>für das persönliche Konto ${recipient} bei ${service_name} wurde ein neues "
            "Passwort angefordert. Über diesen Link können Sie es festlegen:</p>\n"
            '<p><a href="${link}">Neues Passwort festlegen</a></p>\n'
            "<p>Der Link kann nur einmal verwendet werden und verliert am ${expires} seine "
            "Gültigkeit. Sobald Sie das neue Passwort festgelegt haben, werden Sie überall "
            "abgemeldet und melden sich anschließend mit dem neuen Passwort wieder an.</p>\n"
            "<p>Falls Sie kein neues Passwort angefordert haben, ignorieren Sie diese Nachricht "
            "einfach: Ihr bisheriges Passwort bleibt unverändert.</p>\n"
        ),
    ),
    "password_reset_unknown": (
        "Passwortanfrage bei ${service_name}",
        (
            "Guten Tag,\n"
            "\n"
            "bei ${service_name} wurde für die Adresse ${recipient} ein neues Passwort "
            "angefordert. Zu dieser Adresse gibt es jedoch kein persönliches Konto.\n"
            "\n"
            "Falls die Anfrage von Ihnen stammt, haben Sie sich möglicherweise mit einer anderen "
            "Adresse registriert; stellen Sie die Anfrage in diesem Fall bitte mit jener Adresse "
            "erneut. Haben Sie nichts angefordert, können Sie diese Nachricht ignorieren; es wurde "
            "nichts geändert.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>bei ${service_name} wurde für die Adresse ${recipient} ein neues Passwort "
            "angefordert. Zu dieser Adresse gibt es jedoch kein persönliches Konto.</p>\n"
            "<p>Falls die Anfrage von Ihnen stammt, haben Sie sich möglicherweise mit einer "
            "anderen Adresse registriert; stellen Sie die Anfrage in diesem Fall bitte mit jener "
            "Adresse erneut. Haben Sie nichts angefordert, können Sie diese Nachricht ignorieren; "
            "es wurde nichts geändert.</p>\n"
        ),
    ),
    "password_changed": (
        "Ihr Passwort für ${service_name} wurde geändert",
        (
            "Guten Tag,\n"
            "\n"
            "das Passwort des persönlichen Kontos ${recipient} bei ${service_name} wurde soeben "
            "geändert. Alle anderen Anmeldungen des Kontos wurden dabei beendet.\n"
            "\n"
            "Wenn Sie diese Änderung selbst vorgenommen haben, müssen Sie nichts weiter tun. "
            "Andernfalls fordern Sie bitte umgehend über die Option „Passwort vergessen“ auf der "
            "Anmeldeseite ein neues Passwort an. Der Link dazu wird ausschließlich an diese "
            "Adresse gesendet.\n"
        ),
        (
            "<p>Guten Tag,</p>\n"
            "<p>das Passwort des persönlichen Kontos ${recipient} bei ${service_name} wurde soeben "
            "geändert. Alle anderen Anmeldungen des Kontos wurden dabei beendet.</p>\n"
            "<p>Wenn Sie diese Änderung selbst vorgenommen haben, müssen Sie nichts weiter tun. "
            "Andernfalls fordern Sie bitte umgehend über die Option „Passwort vergessen“ auf der "
            "Anmeldeseite ein neues Passwort an. Der Link dazu wird ausschließlich an diese "
            "Adresse gesendet.</p>\n"
        ),
    ),
}
