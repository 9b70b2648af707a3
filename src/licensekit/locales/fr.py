"""French (Français) email texts for licensekit, tag ``fr``.

Data only, in the format :mod:`licensekit.locales` describes.

French typography puts a no-break space (U+00A0, written as an escape in the
strings) inside « » and before ``:`` and ``;``.
"""

__all__ = [
    "DATE_FORMAT",
    "FIRST_DAY",
    "MONTHS",
    "NAME",
    "NOTES_LABEL",
    "ROLE_NAMES",
    "TAG",
    "TEMPLATES",
]

TAG: str = "fr"
NAME: str = "Français"
MONTHS: tuple[str, ...] = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
DATE_FORMAT: str = "{day} {month} {year} à {time} UTC"
FIRST_DAY: str = "1er"
ROLE_NAMES: dict[str, str] = {
    "regular_member": "Membre standard",
    "account_administrator": "Administrateur du compte",
}
NOTES_LABEL: str = "Note de l'administrateur"
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "join_invitation": (
        "Invitation à rejoindre ${account_name} sur ${service_name}",
        (
            "Bonjour,\n"
            "\n"
            "${inviter} vous invite à rejoindre le compte professionnel «\u00a0${account_name}"
            "\u00a0» sur ${service_name}.\n"
            "\n"
            "Pour accepter l'invitation, ouvrez ce lien personnel\u00a0:\n"
            "${link}\n"
            "\n"
            "Si vous avez déjà un compte personnel, connectez-vous avec votre mot de passe actuel. "
            "Sinon, choisissez un mot de passe\u00a0: votre compte personnel sera créé "
            "automatiquement.\n"
            "\n"
            "Ce lien ne peut être utilisé qu'une seule fois et cesse de fonctionner le ${expires}. "
            "Il a été créé uniquement pour ${recipient}\u00a0; merci de ne pas le transférer.\n"
            "\n"
            "Si vous n'attendiez pas cette invitation, vous pouvez simplement ignorer ce message.\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>${inviter} vous invite à rejoindre le compte professionnel <strong>${account_name}"
            "</strong> sur ${service_name}.</p>\n"
            '<p><a href="${link}">Accepter l\'invitation</a></p>\n'
            "<p>Si vous avez déjà un compte personnel, connectez-vous avec votre mot de passe "
            "actuel. Sinon, choisissez un mot de passe\u00a0: votre compte personnel sera créé "
            "automatiquement.</p>\n"
            "<p>Ce lien ne peut être utilisé qu'une seule fois et cesse de fonctionner le "
            "${expires}. Il a été créé uniquement pour ${recipient}\u00a0; merci de ne pas le "
            "transférer.</p>\n"
            "<p>Si vous n'attendiez pas cette invitation, vous pouvez simplement ignorer ce "
            "message.</p>\n"
        ),
    ),
    "install_invitation": (
        "Installer ${product} pour ${account_name}",
        (
            "Bonjour,\n"
            "\n"
            "${inviter} vous invite à installer ${product} avec une licence du compte "
            "professionnel «\u00a0${account_name}\u00a0» sur ${service_name}.\n"
            "\n"
            "Voici la marche à suivre\u00a0:\n"
            "\n"
            "1. Téléchargez le programme d'installation à l'aide de votre lien personnel\u00a0:\n"
            "   ${link}\n"
            "2. Lancez le programme d'installation. Dans la plupart des cas, il active ${product} "
            "de lui-même et vous n'avez rien d'autre à faire.\n"
            "3. Uniquement si un code d'activation vous est demandé, saisissez celui-ci\u00a0:\n"
            "   ${code}\n"
            "\n"
            "À propos de ce code\u00a0: il s'agit d'un code d'activation temporaire et personnel. "
            "Ce n'est pas la clé de licence\u00a0; il ne fonctionne que pour cette licence et "
            "cesse d'être valable le ${expires}. Le lien de téléchargement expire au même moment. "
            "Le lien et le code ont été créés uniquement pour ${recipient}\u00a0; merci de ne les "
            "communiquer à personne.\n"
            "\n"
            "Si quelque chose ne se déroule pas comme indiqué ou si le code a expiré, contactez "
            "${inviter}. Si vous n'attendiez pas ce message, vous pouvez l'ignorer.\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>${inviter} vous invite à installer <strong>${product}</strong> avec une licence du "
            "compte professionnel <strong>${account_name}</strong> sur ${service_name}.</p>\n"
            "<p>Voici la marche à suivre\u00a0:</p>\n"
            "<ol>\n"
            "<li>Téléchargez le programme d'installation à l'aide de votre <a href=\"${link}"
            '">lien de téléchargement personnel</a>.</li>\n'
            "<li>Lancez le programme d'installation. Dans la plupart des cas, il active ${product} "
            "de lui-même et vous n'avez rien d'autre à faire.</li>\n"
            "<li>Uniquement si un code d'activation vous est demandé, saisissez celui-ci\u00a0: "
            "<code>${code}</code></li>\n"
            "</ol>\n"
            "<p>À propos de ce code\u00a0: il s'agit d'un code d'activation temporaire et "
            "personnel. Ce n'est <strong>pas</strong> la clé de licence\u00a0; il ne fonctionne "
            "que pour cette licence et cesse d'être valable le ${expires}. Le lien de "
            "téléchargement expire au même moment. Le lien et le code ont été créés uniquement "
            "pour ${recipient}\u00a0; merci de ne les communiquer à personne.</p>\n"
            "<p>Si quelque chose ne se déroule pas comme indiqué ou si le code a expiré, contactez "
            "${inviter}. Si vous n'attendiez pas ce message, vous pouvez l'ignorer.</p>\n"
        ),
    ),
    "member_blocked": (
        "Votre accès à ${account_name} sur ${service_name} est suspendu",
        (
            "Bonjour,\n"
            "\n"
            "${actor} a bloqué votre accès au compte professionnel «\u00a0${account_name}\u00a0» "
            "sur ${service_name}. Cet accès est suspendu jusqu'à nouvel ordre.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Votre compte personnel n'est pas concerné\u00a0: vous pouvez toujours vous y "
            "connecter et l'utiliser comme avant. Un administrateur de «\u00a0${account_name}\u00a0"
            "» peut lever ce blocage à tout moment. Pour toute question, veuillez contacter l'un "
            "des administrateurs du compte.\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>${actor} a bloqué votre accès au compte professionnel <strong>${account_name}"
            "</strong> sur ${service_name}. Cet accès est suspendu jusqu'à nouvel ordre.</p>\n"
            "${notes_block}\n"
            "<p>Votre compte personnel n'est pas concerné\u00a0: vous pouvez toujours vous y "
            "connecter et l'utiliser comme avant. Un administrateur de <strong>${account_name}"
            "</strong> peut lever ce blocage à tout moment. Pour toute question, veuillez "
            "contacter l'un des administrateurs du compte.</p>\n"
        ),
    ),
    "member_removed": (
        "Vous n'êtes plus membre de ${account_name} sur ${service_name}",
        (
            "Bonjour,\n"
            "\n"
            "${actor} a mis fin à votre appartenance au compte professionnel «\u00a0${account_name}"
            "\u00a0» sur ${service_name}. Vous n'en êtes plus membre, et les installations et "
            "licences que vous y gériez ne vous sont plus accessibles par l'intermédiaire de ce "
            "compte.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Votre compte personnel reste inchangé\u00a0: vous pouvez toujours vous y connecter et "
            "l'utiliser. Pour toute question, veuillez contacter un administrateur de «\u00a0"
            "${account_name}\u00a0».\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>${actor} a mis fin à votre appartenance au compte professionnel <strong>"
            "${account_name}</strong> sur ${service_name}. Vous n'en êtes plus membre, et les "
            "installations et licences que vous y gériez ne vous sont plus accessibles par "
            "l'intermédiaire de ce compte.</p>\n"
            "${notes_block}\n"
            "<p>Votre compte personnel reste inchangé\u00a0: vous pouvez toujours vous y connecter "
            "et l'utiliser. Pour toute question, veuillez contacter un administrateur de <strong>"
            "${account_name}</strong>.</p>\n"
        ),
    ),
    "role_changed": (
        "Votre rôle dans ${account_name} sur ${service_name} a changé",
        (
            "Bonjour,\n"
            "\n"
            "${actor} a modifié votre rôle dans le compte professionnel «\u00a0${account_name}"
            "\u00a0» sur ${service_name}.\n"
            "\n"
            "Rôle précédent\u00a0: ${old_role}\n"
            "Nouveau rôle\u00a0: ${new_role}\n"
            "\n"
            "Si votre nouveau rôle vous donne moins de droits, le changement s'applique "
            "immédiatement, y compris dans les sessions déjà ouvertes. S'il vous en donne "
            "davantage, déconnectez-vous puis reconnectez-vous pour pouvoir les utiliser.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Pour toute question, veuillez contacter un administrateur de «\u00a0${account_name}"
            "\u00a0».\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>${actor} a modifié votre rôle dans le compte professionnel <strong>${account_name}"
            "</strong> sur ${service_name}.</p>\n"
            "<ul>\n"
            "<li>Rôle précédent\u00a0: <strong>${old_role}</strong></li>\n"
            "<li>Nouveau rôle\u00a0: <strong>${new_role}</strong></li>\n"
            "</ul>\n"
            "<p>Si votre nouveau rôle vous donne moins de droits, le changement s'applique "
            "immédiatement, y compris dans les sessions déjà ouvertes. S'il vous en donne "
            "davantage, déconnectez-vous puis reconnectez-vous pour pouvoir les utiliser.</p>\n"
            "${notes_block}\n"
            "<p>Pour toute question, veuillez contacter un administrateur de <strong>"
            "${account_name}</strong>.</p>\n"
        ),
    ),
    "email_verification": (
        "Confirmez votre adresse e-mail pour ${service_name}",
        (
            "Bonjour,\n"
            "\n"
            "Une inscription à ${service_name} a été effectuée avec l'adresse ${recipient}, "
            "probablement par vous. Pour confirmer que cette adresse est bien la vôtre, ouvrez ce "
            "lien\u00a0:\n"
            "${link}\n"
            "\n"
            "Ce lien ne peut être utilisé qu'une seule fois et cesse de fonctionner le ${expires}. "
            "Lorsque vous l'ouvrirez, il vous sera demandé de choisir le mot de passe de votre "
            "compte personnel (vous pouvez garder celui indiqué lors de l'inscription). Tout mot "
            "de passe qu'une autre personne aurait pu définir pour cette adresse cessera alors de "
            "fonctionner, et toutes les sessions ouvertes sur ce compte seront fermées.\n"
            "\n"
            "Si vous n'êtes pas à l'origine de cette inscription, vous pouvez ignorer ce message, "
            "ou bien ouvrir le lien pour vous assurer que personne d'autre n'utilise votre "
            "adresse.\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>Une inscription à ${service_name} a été effectuée avec l'adresse ${recipient}, "
            "probablement par vous. Pour confirmer que cette adresse est bien la vôtre, ouvrez ce "
            "lien\u00a0:</p>\n"
            '<p><a href="${link}">Confirmer mon adresse e-mail</a></p>\n'
            "<p>Ce lien ne peut être utilisé qu'une seule fois et cesse de fonctionner le "
            "${expires}. Lorsque vous l'ouvrirez, il vous sera demandé de choisir le mot de passe "
            "de votre compte personnel (vous pouvez garder celui indiqué lors de l'inscription). "
            "Tout mot de passe qu'une autre personne aurait pu définir pour cette adresse cessera "
            "alors de fonctionner, et toutes les sessions ouvertes sur ce compte seront "
            "fermées.</p>\n"
            "<p>Si vous n'êtes pas à l'origine de cette inscription, vous pouvez ignorer ce "
            "message, ou bien ouvrir le lien pour vous assurer que personne d'autre n'utilise "
            "votre adresse.</p>\n"
        ),
    ),
    "password_reset": (
        "Choisissez un nouveau mot de passe pour ${service_name}",
        (
            "Bonjour,\n"
            "\n"
            "Un nouveau mot de passe a été demandé pour le compte personnel ${recipient} sur "
            "${service_name}. Pour le choisir, ouvrez ce lien\u00a0:\n"
            "${link}\n"
            "\n"
            "Ce lien ne peut être utilisé qu'une seule fois et cesse de fonctionner le ${expires}. "
            "Dès que vous aurez choisi le nouveau mot de passe, toutes vos sessions seront fermées "
            "et vous devrez vous reconnecter avec celui-ci.\n"
            "\n"
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message\u00a0: votre mot "
            "de passe actuel reste inchangé.\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>Un nouveau mot de passe a été demandé pour le compte personnel ${recipient} sur "
            "${service_name}. Pour le choisir, ouvrez ce lien\u00a0:</p>\n"
            '<p><a href="${link}">Choisir un nouveau mot de passe</a></p>\n'
            "<p>Ce lien ne peut être utilisé qu'une seule fois et cesse de fonctionner le "
            "${expires}. Dès que vous aurez choisi le nouveau mot de passe, toutes vos sessions "
            "seront fermées et vous devrez vous reconnecter avec celui-ci.</p>\n"
            "<p>Si vous n'êtes pas à l'origine de cette demande, ignorez ce message\u00a0: votre "
            "mot de passe actuel reste inchangé.</p>\n"
        ),
    ),
    "password_reset_unknown": (
        "Demande de mot de passe sur ${service_name}",
        (
            "Bonjour,\n"
            "\n"
            "Un nouveau mot de passe a été demandé sur ${service_name} pour l'adresse "
            "${recipient}, mais aucun compte personnel n'est associé à cette adresse.\n"
            "\n"
            "Si cette demande vient de vous, vous avez peut-être utilisé une autre adresse lors de "
            "votre inscription\u00a0: refaites la demande avec celle-ci. Si vous n'avez rien "
            "demandé, ignorez ce message\u00a0; rien n'a été modifié.\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>Un nouveau mot de passe a été demandé sur ${service_name} pour l'adresse "
            "${recipient}, mais aucun compte personnel n'est associé à cette adresse.</p>\n"
            "<p>Si cette demande vient de vous, vous avez peut-être utilisé une autre adresse lors "
            "de votre inscription\u00a0: refaites la demande avec celle-ci. Si vous n'avez rien "
            "demandé, ignorez ce message\u00a0; rien n'a été modifié.</p>\n"
        ),
    ),
    "password_changed": (
        "Le mot de passe de votre compte ${service_name} a été modifié",
        (
            "Bonjour,\n"
            "\n"
            "Le mot de passe du compte personnel ${recipient} sur ${service_name} vient d'être "
            "modifié, et toutes les autres sessions ouvertes sur ce compte ont été fermées.\n"
            "\n"
            "Si c'est vous qui avez effectué ce changement, vous n'avez rien d'autre à faire. "
            "Sinon, demandez immédiatement un nouveau mot de passe à l'aide de l'option «\u00a0Mot "
            "de passe oublié\u00a0» de la page de connexion\u00a0: le lien sera envoyé uniquement "
            "à cette adresse.\n"
        ),
        (
            "<p>Bonjour,</p>\n"
            "<p>Le mot de passe du compte personnel ${recipient} sur ${service_name} vient d'être "
            "modifié, et toutes les autres sessions ouvertes sur ce compte ont été fermées.</p>\n"
            "<p>Si c'est vous qui avez effectué ce changement, vous n'avez rien d'autre à faire. "
            "Sinon, demandez immédiatement un nouveau mot de passe à l'aide de l'option «\u00a0Mot "
            "de passe oublié\u00a0» de la page de connexion\u00a0: le lien sera envoyé uniquement "
            "à cette adresse.</p>\n"
        ),
    ),
}
