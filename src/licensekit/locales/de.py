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
}
