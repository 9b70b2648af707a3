"""Spanish (Español) email texts for licensekit, tag ``es``.

Data only, in the format :mod:`licensekit.locales` describes.
"""

__all__ = ["DATE_FORMAT", "MONTHS", "NAME", "NOTES_LABEL", "ROLE_NAMES", "TAG", "TEMPLATES"]

TAG: str = "es"
NAME: str = "Español"
MONTHS: tuple[str, ...] = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
DATE_FORMAT: str = "{day} de {month} de {year}, {time} UTC"
ROLE_NAMES: dict[str, str] = {
    "regular_member": "Miembro estándar",
    "account_administrator": "Administrador de la cuenta",
}
NOTES_LABEL: str = "Nota del administrador"
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "join_invitation": (
        "Invitación para unirse a ${account_name} en ${service_name}",
        (
            "Hola:\n"
            "\n"
            "${inviter} le invita a unirse a la cuenta de empresa «${account_name}» en "
            "${service_name}.\n"
            "\n"
            "Para aceptar la invitación, abra este enlace personal:\n"
            "${link}\n"
            "\n"
            "Si ya tiene una cuenta personal, inicie sesión con su contraseña actual. Si todavía "
            "no tiene una, elija una contraseña y se creará su cuenta personal.\n"
            "\n"
            "El enlace solo puede usarse una vez y deja de funcionar el ${expires}. Se ha creado "
            "exclusivamente para ${recipient}; le rogamos que no lo reenvíe.\n"
            "\n"
            "Si no esperaba esta invitación, puede ignorar este mensaje.\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>${inviter} le invita a unirse a la cuenta de empresa <strong>${account_name}"
            "</strong> en ${service_name}.</p>\n"
            '<p><a href="${link}">Aceptar la invitación</a></p>\n'
            "<p>Si ya tiene una cuenta personal, inicie sesión con su contraseña actual. Si "
            "todavía no tiene una, elija una contraseña y se creará su cuenta personal.</p>\n"
            "<p>El enlace solo puede usarse una vez y deja de funcionar el ${expires}. Se ha "
            "creado exclusivamente para ${recipient}; le rogamos que no lo reenvíe.</p>\n"
            "<p>Si no esperaba esta invitación, puede ignorar este mensaje.</p>\n"
        ),
    ),
    "install_invitation": (
        "Instalación de ${product} para ${account_name}",
        (
            "Hola:\n"
            "\n"
            "${inviter} le invita a instalar ${product} con una licencia de la cuenta de empresa «"
            "${account_name}» en ${service_name}.\n"
            "\n"
            "Siga estos pasos:\n"
            "\n"
            "1. Descargue el instalador desde su enlace personal:\n"
            "   ${link}\n"
            "2. Ejecute el instalador. Por lo general, activa ${product} automáticamente y no "
            "tiene que hacer nada más.\n"
            "3. Solo si se le pide un código de activación, escriba este:\n"
            "   ${code}\n"
            "\n"
            "Acerca del código: se trata de un código de activación temporal y personal. No es la "
            "clave de licencia, solo sirve para esta licencia y deja de funcionar el ${expires}. "
            "El enlace de descarga caduca en ese mismo momento. El enlace y el código se han "
            "creado exclusivamente para ${recipient}; le rogamos que no los comparta.\n"
            "\n"
            "Si algo no funciona como se describe o el código ha caducado, póngase en contacto con "
            "${inviter}. Si no esperaba este mensaje, puede ignorarlo.\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>${inviter} le invita a instalar <strong>${product}</strong> con una licencia de la "
            "cuenta de empresa <strong>${account_name}</strong> en ${service_name}.</p>\n"
            "<p>Siga estos pasos:</p>\n"
            "<ol>\n"
            '<li>Descargue el instalador desde su <a href="${link}">enlace de descarga '
            "personal</a>.</li>\n"
            "<li>Ejecute el instalador. Por lo general, activa ${product} automáticamente y no "
            "tiene que hacer nada más.</li>\n"
            "<li>Solo si se le pide un código de activación, escriba este: <code>${code}"
            "</code></li>\n"
            "</ol>\n"
            "<p>Acerca del código: se trata de un código de activación temporal y personal. "
            "<strong>No</strong> es la clave de licencia, solo sirve para esta licencia y deja de "
            "funcionar el ${expires}. El enlace de descarga caduca en ese mismo momento. El enlace "
            "y el código se han creado exclusivamente para ${recipient}; le rogamos que no los "
            "comparta.</p>\n"
            "<p>Si algo no funciona como se describe o el código ha caducado, póngase en contacto "
            "con ${inviter}. Si no esperaba este mensaje, puede ignorarlo.</p>\n"
        ),
    ),
    "member_blocked": (
        "Se ha suspendido su acceso a ${account_name} en ${service_name}",
        (
            "Hola:\n"
            "\n"
            "${actor} ha bloqueado su acceso a la cuenta de empresa «${account_name}» en "
            "${service_name}. Su acceso queda suspendido hasta nuevo aviso.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Su cuenta personal no se ve afectada: puede seguir iniciando sesión y usándola como "
            "hasta ahora. Un administrador de «${account_name}» puede levantar el bloqueo en "
            "cualquier momento. Si tiene alguna pregunta, póngase en contacto con uno de los "
            "administradores de la cuenta.\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>${actor} ha bloqueado su acceso a la cuenta de empresa <strong>${account_name}"
            "</strong> en ${service_name}. Su acceso queda suspendido hasta nuevo aviso.</p>\n"
            "${notes_block}\n"
            "<p>Su cuenta personal no se ve afectada: puede seguir iniciando sesión y usándola "
            "como hasta ahora. Un administrador de <strong>${account_name}</strong> puede levantar "
            "el bloqueo en cualquier momento. Si tiene alguna pregunta, póngase en contacto con "
            "uno de los administradores de la cuenta.</p>\n"
        ),
    ),
    "member_removed": (
        "Ya no es miembro de ${account_name} en ${service_name}",
        (
            "Hola:\n"
            "\n"
            "${actor} le ha retirado de la cuenta de empresa «${account_name}» en ${service_name}. "
            "Ya no es miembro de esta cuenta, y las instalaciones y licencias que gestionaba en "
            "ella ya no están a su disposición a través de esta cuenta.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Su cuenta personal se mantiene sin cambios: puede seguir iniciando sesión y usándola. "
            "Si tiene alguna pregunta, póngase en contacto con un administrador de «${account_name}"
            "».\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>${actor} le ha retirado de la cuenta de empresa <strong>${account_name}</strong> "
            "en ${service_name}. Ya no es miembro de esta cuenta, y las instalaciones y licencias "
            "que gestionaba en ella ya no están a su disposición a través de esta cuenta.</p>\n"
            "${notes_block}\n"
            "<p>Su cuenta personal se mantiene sin cambios: puede seguir iniciando sesión y "
            "usándola. Si tiene alguna pregunta, póngase en contacto con un administrador de "
            "<strong>${account_name}</strong>.</p>\n"
        ),
    ),
    "role_changed": (
        "Ha cambiado su rol en ${account_name} (${service_name})",
        (
            "Hola:\n"
            "\n"
            "${actor} ha cambiado su rol en la cuenta de empresa «${account_name}» en "
            "${service_name}.\n"
            "\n"
            "Rol anterior: ${old_role}\n"
            "Rol nuevo: ${new_role}\n"
            "\n"
            "Si su nuevo rol le otorga menos permisos, el cambio se aplica de inmediato, también "
            "en las sesiones que ya tenga abiertas. Si le otorga más permisos, cierre la sesión y "
            "vuelva a iniciar sesión para poder usarlos.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Si tiene alguna pregunta, póngase en contacto con un administrador de «${account_name}"
            "».\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>${actor} ha cambiado su rol en la cuenta de empresa <strong>${account_name}"
            "</strong> en ${service_name}.</p>\n"
            "<ul>\n"
            "<li>Rol anterior: <strong>${old_role}</strong></li>\n"
            "<li>Rol nuevo: <strong>${new_role}</strong></li>\n"
            "</ul>\n"
            "<p>Si su nuevo rol le otorga menos permisos, el cambio se aplica de inmediato, "
            "también en las sesiones que ya tenga abiertas. Si le otorga más permisos, cierre la "
            "sesión y vuelva a iniciar sesión para poder usarlos.</p>\n"
            "${notes_block}\n"
            "<p>Si tiene alguna pregunta, póngase en contacto con un administrador de <strong>"
            "${account_name}</strong>.</p>\n"
        ),
    ),
    "email_verification": (
        "Confirme su dirección de correo electrónico en ${service_name}",
        (
            "Hola:\n"
            "\n"
            "Hemos recibido un registro en ${service_name} con la dirección ${recipient}; lo más "
            "probable es que lo haya hecho usted. Para confirmar que esta dirección es suya, abra "
            "este enlace:\n"
            "${link}\n"
            "\n"
            "El enlace solo puede usarse una vez y deja de funcionar el ${expires}. Al abrirlo, se "
            "le pedirá que elija la contraseña de su cuenta personal (puede mantener la que indicó "
            "al registrarse). Cualquier contraseña que otra persona haya podido establecer para "
            "esta dirección dejará de funcionar, y se cerrarán todas las sesiones abiertas con "
            "esta cuenta.\n"
            "\n"
            "Si no se ha registrado, puede ignorar este mensaje o bien abrir el enlace para "
            "asegurarse de que nadie más utiliza su dirección.\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>Hemos recibido un registro en ${service_name} con la dirección ${recipient}; lo "
            "más probable es que lo haya hecho usted. Para confirmar que esta dirección es suya, "
            "abra este enlace:</p>\n"
            '<p><a href="${link}">Confirmar mi dirección de correo</a></p>\n'
            "<p>El enlace solo puede usarse una vez y deja de funcionar el ${expires}. Al abrirlo, "
            "se le pedirá que elija la contraseña de su cuenta personal (puede mantener la que "
            "indicó al registrarse). Cualquier contraseña que otra persona haya podido establecer "
            "para esta dirección dejará de funcionar, y se cerrarán todas las sesiones abiertas "
            "con esta cuenta.</p>\n"
            "<p>Si no se ha registrado, puede ignorar este mensaje o bien abrir el enlace para "
            "asegurarse de que nadie más utiliza su dirección.</p>\n"
        ),
    ),
    "password_reset": (
        "Elija una nueva contraseña para ${service_name}",
        (
            "Hola:\n"
            "\n"
            "Se ha solicitado una nueva contraseña para la cuenta personal ${recipient} en "
            "${service_name}. Para elegirla, abra este enlace:\n"
            "${link}\n"
            "\n"
            "El enlace solo puede usarse una vez y deja de funcionar el ${expires}. Cuando haya "
            "elegido la nueva contraseña, se cerrarán todas sus sesiones y deberá volver a iniciar "
            "sesión con ella.\n"
            "\n"
            "Si no ha solicitado ningún cambio, ignore este mensaje: su contraseña seguirá siendo "
            "la misma.\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>Se ha solicitado una nueva contraseña para la cuenta personal ${recipient} en "
            "${service_name}. Para elegirla, abra este enlace:</p>\n"
            '<p><a href="${link}">Elegir una nueva contraseña</a></p>\n'
            "<p>El enlace solo puede usarse una vez y deja de funcionar el ${expires}. Cuando haya "
            "elegido la nueva contraseña, se cerrarán todas sus sesiones y deberá volver a iniciar "
            "sesión con ella.</p>\n"
            "<p>Si no ha solicitado ningún cambio, ignore este mensaje: su contraseña seguirá "
            "siendo la misma.</p>\n"
        ),
    ),
    "password_reset_unknown": (
        "Solicitud de contraseña en ${service_name}",
        (
            "Hola:\n"
            "\n"
            "Se ha solicitado una nueva contraseña en ${service_name} para la dirección "
            "${recipient}, pero no existe ninguna cuenta personal con esta dirección.\n"
            "\n"
            "Si ha sido usted, es posible que se haya registrado con otra dirección: repita la "
            "solicitud con esa otra dirección. Si no ha solicitado nada, ignore este mensaje; no "
            "se ha modificado nada.\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>Se ha solicitado una nueva contraseña en ${service_name} para la dirección "
            "${recipient}, pero no existe ninguna cuenta personal con esta dirección.</p>\n"
            "<p>Si ha sido usted, es posible que se haya registrado con otra dirección: repita la "
            "solicitud con esa otra dirección. Si no ha solicitado nada, ignore este mensaje; no "
            "se ha modificado nada.</p>\n"
        ),
    ),
    "password_changed": (
        "Se ha cambiado su contraseña de ${service_name}",
        (
            "Hola:\n"
            "\n"
            "Se acaba de cambiar la contraseña de la cuenta personal ${recipient} en "
            "${service_name}, y se han cerrado todas las demás sesiones de la cuenta.\n"
            "\n"
            "Si ha hecho usted este cambio, no tiene que hacer nada más. Si no es así, solicite de "
            "inmediato una nueva contraseña mediante la opción «¿Ha olvidado su contraseña?» de la "
            "página de inicio de sesión: el enlace se enviará únicamente a esta dirección.\n"
        ),
        (
            "<p>Hola:</p>\n"
            "<p>Se acaba de cambiar la contraseña de la cuenta personal ${recipient} en "
            "${service_name}, y se han cerrado todas las demás sesiones de la cuenta.</p>\n"
            "<p>Si ha hecho usted este cambio, no tiene que hacer nada más. Si no es así, solicite "
            "de inmediato una nueva contraseña mediante la opción «¿Ha olvidado su contraseña?» de "
            "la página de inicio de sesión: el enlace se enviará únicamente a esta dirección.</p>\n"
        ),
    ),
}
