"""Italian (Italiano) email texts for licensekit, tag ``it``.

Data only, in the format :mod:`licensekit.locales` describes.
"""

__all__ = ["DATE_FORMAT", "MONTHS", "NAME", "NOTES_LABEL", "ROLE_NAMES", "TAG", "TEMPLATES"]

TAG: str = "it"
NAME: str = "Italiano"
MONTHS: tuple[str, ...] = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)
DATE_FORMAT: str = "{day} {month} {year}, ore {time} UTC"
ROLE_NAMES: dict[str, str] = {
    "regular_member": "Membro standard",
    "account_administrator": "Amministratore dell'account",
}
NOTES_LABEL: str = "Nota dell'amministratore"
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "join_invitation": (
        "Invito a unirsi a ${account_name} su ${service_name}",
        (
            "Buongiorno,\n"
            "\n"
            "${inviter} la invita a unirsi all'account aziendale «${account_name}» su "
            "${service_name}.\n"
            "\n"
            "Per accettare l'invito, apra questo link personale:\n"
            "${link}\n"
            "\n"
            "Se ha già un account personale, acceda con la password attuale. In caso contrario, "
            "scelga una password e il suo account personale verrà creato automaticamente.\n"
            "\n"
            "Il link può essere usato una sola volta e scade in data ${expires}. È stato creato "
            "esclusivamente per ${recipient}: la preghiamo di non inoltrarlo.\n"
            "\n"
            "Se non si aspettava questo invito, può semplicemente ignorare questo messaggio.\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>${inviter} la invita a unirsi all'account aziendale <strong>${account_name}"
            "</strong> su ${service_name}.</p>\n"
            '<p><a href="${link}">Accetta l\'invito</a></p>\n'
            "<p>Se ha già un account personale, acceda con la password attuale. In caso contrario, "
            "scelga una password e il suo account personale verrà creato automaticamente.</p>\n"
            "<p>Il link può essere usato una sola volta e scade in data ${expires}. È stato creato "
            "esclusivamente per ${recipient}: la preghiamo di non inoltrarlo.</p>\n"
            "<p>Se non si aspettava questo invito, può semplicemente ignorare questo messaggio.</p>"
            "\n"
        ),
    ),
    "install_invitation": (
        "Installazione di ${product} per ${account_name}",
        (
            "Buongiorno,\n"
            "\n"
            "${inviter} la invita a installare ${product} con una licenza dell'account aziendale «"
            "${account_name}» su ${service_name}.\n"
            "\n"
            "Ecco come procedere:\n"
            "\n"
            "1. Scarichi il programma di installazione dal suo link personale:\n"
            "   ${link}\n"
            "2. Avvii il programma di installazione. Di norma attiva ${product} da solo e non deve "
            "fare nient'altro.\n"
            "3. Solo se le viene chiesto un codice di attivazione, inserisca questo:\n"
            "   ${code}\n"
            "\n"
            "Informazioni sul codice: si tratta di un codice di attivazione temporaneo e "
            "personale. Non è la chiave di licenza, vale solo per questa licenza e smette di "
            "funzionare in data ${expires}. Il link di download scade nello stesso momento. Link e "
            "codice sono stati creati esclusivamente per ${recipient}: la preghiamo di non "
            "condividerli con nessuno.\n"
            "\n"
            "Se qualcosa non funziona come descritto o il codice è scaduto, contatti ${inviter}. "
            "Se non si aspettava questo messaggio, può ignorarlo.\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>${inviter} la invita a installare <strong>${product}</strong> con una licenza "
            "dell'account aziendale <strong>${account_name}</strong> su ${service_name}.</p>\n"
            "<p>Ecco come procedere:</p>\n"
            "<ol>\n"
            '<li>Scarichi il programma di installazione dal suo <a href="${link}">link di '
            "download personale</a>.</li>\n"
            "<li>Avvii il programma di installazione. Di norma attiva ${product} da solo e non "
            "deve fare nient'altro.</li>\n"
            "<li>Solo se le viene chiesto un codice di attivazione, inserisca questo: <code>${code}"
            "</code></li>\n"
            "</ol>\n"
            "<p>Informazioni sul codice: si tratta di un codice di attivazione temporaneo e "
            "personale. <strong>Non</strong> è la chiave di licenza, vale solo per questa licenza "
            "e smette di funzionare in data ${expires}. Il link di download scade nello stesso "
            "momento. Link e codice sono stati creati esclusivamente per ${recipient}: la "
            "preghiamo di non condividerli con nessuno.</p>\n"
            "<p>Se qualcosa non funziona come descritto o il codice è scaduto, contatti ${inviter}"
            ". Se non si aspettava questo messaggio, può ignorarlo.</p>\n"
        ),
    ),
    "member_blocked": (
        "Il suo accesso a ${account_name} su ${service_name} è stato sospeso",
        (
            "Buongiorno,\n"
            "\n"
            "${actor} ha bloccato il suo accesso all'account aziendale «${account_name}» su "
            "${service_name}. L'accesso resta sospeso fino a nuovo avviso.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Il suo account personale non è interessato: può continuare ad accedervi e a usarlo "
            "come prima. Un amministratore di «${account_name}» può sbloccarla in qualsiasi "
            "momento. Per qualsiasi domanda, si rivolga a uno degli amministratori dell'account.\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>${actor} ha bloccato il suo accesso all'account aziendale <strong>${account_name}"
            "</strong> su ${service_name}. L'accesso resta sospeso fino a nuovo avviso.</p>\n"
            "${notes_block}\n"
            "<p>Il suo account personale non è interessato: può continuare ad accedervi e a usarlo "
            "come prima. Un amministratore di <strong>${account_name}</strong> può sbloccarla in "
            "qualsiasi momento. Per qualsiasi domanda, si rivolga a uno degli amministratori "
            "dell'account.</p>\n"
        ),
    ),
    "member_removed": (
        "Non è più membro di ${account_name} su ${service_name}",
        (
            "Buongiorno,\n"
            "\n"
            "${actor} ha revocato la sua appartenenza all'account aziendale «${account_name}» su "
            "${service_name}. Non è più membro di questo account, e le installazioni e le licenze "
            "che gestiva al suo interno non sono più disponibili per lei tramite questo account.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Il suo account personale resta invariato: può continuare ad accedervi e a usarlo. Per "
            "qualsiasi domanda, si rivolga a un amministratore di «${account_name}».\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>${actor} ha revocato la sua appartenenza all'account aziendale <strong>"
            "${account_name}</strong> su ${service_name}. Non è più membro di questo account, e le "
            "installazioni e le licenze che gestiva al suo interno non sono più disponibili per "
            "lei tramite questo account.</p>\n"
            "${notes_block}\n"
            "<p>Il suo account personale resta invariato: può continuare ad accedervi e a usarlo. "
            "Per qualsiasi domanda, si rivolga a un amministratore di <strong>${account_name}"
            "</strong>.</p>\n"
        ),
    ),
    "role_changed": (
        "Il suo ruolo in ${account_name} su ${service_name} è cambiato",
        (
            "Buongiorno,\n"
            "\n"
            "${actor} ha modificato il suo ruolo nell'account aziendale «${account_name}» su "
            "${service_name}.\n"
            "\n"
            "Ruolo precedente: ${old_role}\n"
            "Nuovo ruolo: ${new_role}\n"
            "\n"
            "Se il nuovo ruolo le concede meno permessi, la modifica ha effetto immediato, anche "
            "nelle sessioni già aperte. Se gliene concede di più, si disconnetta e acceda di nuovo "
            "per poterli usare.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Per qualsiasi domanda, si rivolga a un amministratore di «${account_name}».\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>${actor} ha modificato il suo ruolo nell'account aziendale <strong>${account_name}"
            "</strong> su ${service_name}.</p>\n"
            "<ul>\n"
            "<li>Ruolo precedente: <strong>${old_role}</strong></li>\n"
            "<li>Nuovo ruolo: <strong>${new_role}</strong></li>\n"
            "</ul>\n"
            "<p>Se il nuovo ruolo le concede meno permessi, la modifica ha effetto immediato, "
            "anche nelle sessioni già aperte. Se gliene concede di più, si disconnetta e acceda di "
            "nuovo per poterli usare.</p>\n"
            "${notes_block}\n"
            "<p>Per qualsiasi domanda, si rivolga a un amministratore di <strong>${account_name}"
            "</strong>.</p>\n"
        ),
    ),
    "email_verification": (
        "Confermi il suo indirizzo email per ${service_name}",
        (
            "Buongiorno,\n"
            "\n"
            "È stata effettuata una registrazione a ${service_name} con l'indirizzo ${recipient}, "
            "probabilmente da parte sua. Per confermare che questo indirizzo le appartiene, apra "
            "questo link:\n"
            "${link}\n"
            "\n"
            "Il link può essere usato una sola volta e scade in data ${expires}. Quando lo aprirà, "
            "le verrà chiesto di scegliere la password del suo account personale (può anche "
            "mantenere quella indicata al momento della registrazione). Qualsiasi password "
            "eventualmente impostata da altri per questo indirizzo smetterà di funzionare, e tutte "
            "le sessioni aperte con questo account verranno chiuse.\n"
            "\n"
            "Se la registrazione non è stata effettuata da lei, può ignorare questo messaggio "
            "oppure aprire il link per assicurarsi che nessun altro usi il suo indirizzo.\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>È stata effettuata una registrazione a ${service_name} con l'indirizzo "
            "${recipient}, probabilmente da parte sua. Per confermare che questo indirizzo le "
            "appartiene, apra questo link:</p>\n"
            '<p><a href="${link}">Conferma l\'indirizzo email</a></p>\n'
            "<p>Il link può essere usato una sola volta e scade in data ${expires}. Quando lo "
            "aprirà, le verrà chiesto di scegliere la password del suo account personale (può "
            "anche mantenere quella indicata al momento della registrazione). Qualsiasi password "
            "eventualmente impostata da altri per questo indirizzo smetterà di funzionare, e tutte "
            "le sessioni aperte con questo account verranno chiuse.</p>\n"
            "<p>Se la registrazione non è stata effettuata da lei, può ignorare questo messaggio "
            "oppure aprire il link per assicurarsi che nessun altro usi il suo indirizzo.</p>\n"
        ),
    ),
    "password_reset": (
        "Scelga una nuova password per ${service_name}",
        (
            "Buongiorno,\n"
            "\n"
            "È stata richiesta una nuova password per l'account personale ${recipient} su "
            "${service_name}. Per sceglierla, apra questo link:\n"
            "${link}\n"
            "\n"
            "Il link può essere usato una sola volta e scade in data ${expires}. Dopo che avrà "
            "scelto la nuova password, tutte le sue sessioni verranno chiuse e dovrà accedere di "
            "nuovo con la nuova password.\n"
            "\n"
            "Se non ha richiesto nulla, ignori questo messaggio: la sua password resta invariata.\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>È stata richiesta una nuova password per l'account personale ${recipient} su "
            "${service_name}. Per sceglierla, apra questo link:</p>\n"
            '<p><a href="${link}">Scegli una nuova password</a></p>\n'
            "<p>Il link può essere usato una sola volta e scade in data ${expires}. Dopo che avrà "
            "scelto la nuova password, tutte le sue sessioni verranno chiuse e dovrà accedere di "
            "nuovo con la nuova password.</p>\n"
            "<p>Se non ha richiesto nulla, ignori questo messaggio: la sua password resta "
            "invariata.</p>\n"
        ),
    ),
    "password_reset_unknown": (
        "Richiesta di password su ${service_name}",
        (
            "Buongiorno,\n"
            "\n"
            "È stata richiesta una nuova password su ${service_name} per l'indirizzo ${recipient}, "
            "ma non esiste alcun account personale associato a questo indirizzo.\n"
            "\n"
            "Se la richiesta è partita da lei, forse al momento della registrazione ha usato un "
            "altro indirizzo: ripeta la richiesta con quell'indirizzo. Se non ha richiesto nulla, "
            "ignori questo messaggio; non è stato modificato niente.\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>È stata richiesta una nuova password su ${service_name} per l'indirizzo "
            "${recipient}, ma non esiste alcun account personale associato a questo "
            "indirizzo.</p>\n"
            "<p>Se la richiesta è partita da lei, forse al momento della registrazione ha usato un "
            "altro indirizzo: ripeta la richiesta con quell'indirizzo. Se non ha richiesto nulla, "
            "ignori questo messaggio; non è stato modificato niente.</p>\n"
        ),
    ),
    "password_changed": (
        "La password del suo account su ${service_name} è stata modificata",
        (
            "Buongiorno,\n"
            "\n"
            "La password dell'account personale ${recipient} su ${service_name} è stata appena "
            "modificata, e tutte le altre sessioni aperte con questo account sono state chiuse.\n"
            "\n"
            "Se la modifica è stata fatta da lei, non deve fare nient'altro. In caso contrario, "
            "richieda subito una nuova password con l'opzione «Password dimenticata» della pagina "
            "di accesso: il link verrà inviato solo a questo indirizzo.\n"
        ),
        (
            "<p>Buongiorno,</p>\n"
            "<p>La password dell'account personale ${recipient} su ${service_name} è stata appena "
            "modificata, e tutte le altre sessioni aperte con questo account sono state "
            "chiuse.</p>\n"
            "<p>Se la modifica è stata fatta da lei, non deve fare nient'altro. In caso contrario, "
            "richieda subito una nuova password con l'opzione «Password dimenticata» della pagina "
            "di accesso: il link verrà inviato solo a questo indirizzo.</p>\n"
        ),
    ),
}
