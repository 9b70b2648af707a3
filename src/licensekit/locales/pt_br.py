"""Brazilian Portuguese (Português (Brasil)) email texts for licensekit, tag ``pt-BR``.

Data only, in the format :mod:`licensekit.locales` describes.
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

TAG: str = "pt-BR"
NAME: str = "Português (Brasil)"
MONTHS: tuple[str, ...] = (
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
)
DATE_FORMAT: str = "{day} de {month} de {year}, às {time} UTC"
FIRST_DAY: str = "1º"
ROLE_NAMES: dict[str, str] = {
    "regular_member": "Membro comum",
    "account_administrator": "Administrador da conta",
}
NOTES_LABEL: str = "Observação do administrador"
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "join_invitation": (
        "Convite para participar da conta ${account_name} em ${service_name}",
        (
            "Olá,\n"
            "\n"
            "${inviter} convidou você para participar da conta empresarial “${account_name}” em "
            "${service_name}.\n"
            "\n"
            "Para aceitar o convite, abra este link pessoal:\n"
            "${link}\n"
            "\n"
            "Se você já tem uma conta pessoal, entre com a sua senha atual. Caso contrário, "
            "escolha uma senha e sua conta pessoal será criada automaticamente.\n"
            "\n"
            "O link só pode ser usado uma vez e deixa de funcionar em ${expires}. Ele foi criado "
            "exclusivamente para ${recipient}; por favor, não o encaminhe.\n"
            "\n"
            "Se você não esperava este convite, pode simplesmente ignorar esta mensagem.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>${inviter} convidou você para participar da conta empresarial <strong>"
            "${account_name}</strong> em ${service_name}.</p>\n"
            '<p><a href="${link}">Aceitar o convite</a></p>\n'
            "<p>Se você já tem uma conta pessoal, entre com a sua senha atual. Caso contrário, "
            "escolha uma senha e sua conta pessoal será criada automaticamente.</p>\n"
            "<p>O link só pode ser usado uma vez e deixa de funcionar em ${expires}. Ele foi "
            "criado exclusivamente para ${recipient}; por favor, não o encaminhe.</p>\n"
            "<p>Se você não esperava este convite, pode simplesmente ignorar esta mensagem.</p>\n"
        ),
    ),
    "install_invitation": (
        "Instalação de ${product} para ${account_name}",
        (
            "Olá,\n"
            "\n"
            "${inviter} convidou você para instalar ${product} com uma licença da conta "
            "empresarial “${account_name}” em ${service_name}.\n"
            "\n"
            "Siga estes passos:\n"
            "\n"
            "1. Baixe o instalador pelo seu link pessoal:\n"
            "   ${link}\n"
            "2. Execute o instalador. Normalmente ele ativa ${product} sozinho, e você não precisa "
            "fazer mais nada.\n"
            "3. Somente se for solicitado um código de ativação, digite este:\n"
            "   ${code}\n"
            "\n"
            "Sobre o código: trata-se de um código de ativação temporário e pessoal. Ele não é a "
            "chave de licença, funciona apenas para esta licença e deixa de valer em ${expires}. O "
            "link de download expira no mesmo momento. O link e o código foram criados "
            "exclusivamente para ${recipient}; por favor, não os compartilhe com ninguém.\n"
            "\n"
            "Se algo não funcionar como descrito ou se o código tiver expirado, entre em contato "
            "com ${inviter}. Se você não esperava esta mensagem, pode ignorá-la.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>${inviter} convidou você para instalar <strong>${product}</strong> com uma licença "
            "da conta empresarial <strong>${account_name}</strong> em ${service_name}.</p>\n"
            "<p>Siga estes passos:</p>\n"
            "<ol>\n"
            '<li>Baixe o instalador pelo seu <a href="${link}">link de download pessoal</a>.</li>'
            "\n"
            "<li>Execute o instalador. Normalmente ele ativa ${product} sozinho, e você não "
            "precisa fazer mais nada.</li>\n"
            "<li>Somente se for solicitado um código de ativação, digite este: <code>${code}"
            "</code></li>\n"
            "</ol>\n"
            "<p>Sobre o código: trata-se de um código de ativação temporário e pessoal. Ele "
            "<strong>não</strong> é a chave de licença, funciona apenas para esta licença e deixa "
            "de valer em ${expires}. O link de download expira no mesmo momento. O link e o código "
            "foram criados exclusivamente para ${recipient}; por favor, não os compartilhe com "
            "ninguém.</p>\n"
            "<p>Se algo não funcionar como descrito ou se o código tiver expirado, entre em "
            "contato com ${inviter}. Se você não esperava esta mensagem, pode ignorá-la.</p>\n"
        ),
    ),
    "member_blocked": (
        "Seu acesso à conta ${account_name} em ${service_name} foi suspenso",
        (
            "Olá,\n"
            "\n"
            "${actor} bloqueou seu acesso à conta empresarial “${account_name}” em ${service_name}"
            ". Esse acesso fica suspenso até segunda ordem.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Sua conta pessoal não é afetada: você continua podendo entrar e usá-la normalmente. "
            "Um administrador de “${account_name}” pode desbloquear seu acesso a qualquer momento. "
            "Em caso de dúvidas, entre em contato com um dos administradores da conta.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>${actor} bloqueou seu acesso à conta empresarial <strong>${account_name}</strong> "
            "em ${service_name}. Esse acesso fica suspenso até segunda ordem.</p>\n"
            "${notes_block}\n"
            "<p>Sua conta pessoal não é afetada: você continua podendo entrar e usá-la "
            "normalmente. Um administrador de <strong>${account_name}</strong> pode desbloquear "
            "seu acesso a qualquer momento. Em caso de dúvidas, entre em contato com um dos "
            "administradores da conta.</p>\n"
        ),
    ),
    "member_removed": (
        "Você não é mais membro da conta ${account_name} em ${service_name}",
        (
            "Olá,\n"
            "\n"
            "${actor} removeu você da conta empresarial “${account_name}” em ${service_name}. Você "
            "não é mais membro dessa conta, e as instalações e licenças que você gerenciava ali "
            "deixam de estar disponíveis para você por meio dela.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Sua conta pessoal continua como está: você ainda pode entrar e usá-la. Em caso de "
            "dúvidas, entre em contato com um administrador de “${account_name}”.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>${actor} removeu você da conta empresarial <strong>${account_name}</strong> em "
            "${service_name}. Você não é mais membro dessa conta, e as instalações e licenças que "
            "você gerenciava ali deixam de estar disponíveis para você por meio dela.</p>\n"
            "${notes_block}\n"
            "<p>Sua conta pessoal continua como está: você ainda pode entrar e usá-la. Em caso de "
            "dúvidas, entre em contato com um administrador de <strong>${account_name}"
            "</strong>.</p>\n"
        ),
    ),
    "role_changed": (
        "Sua função na conta ${account_name} em ${service_name} foi alterada",
        (
            "Olá,\n"
            "\n"
            "${actor} alterou sua função na conta empresarial “${account_name}” em ${service_name}."
            "\n"
            "\n"
            "Função anterior: ${old_role}\n"
            "Nova função: ${new_role}\n"
            "\n"
            "Se a sua nova função tiver menos permissões, a alteração vale imediatamente, "
            "inclusive em sessões que já estejam abertas. Se tiver mais permissões, saia e entre "
            "novamente para poder usá-las.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Em caso de dúvidas, entre em contato com um administrador de “${account_name}”.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>${actor} alterou sua função na conta empresarial <strong>${account_name}</strong> "
            "em ${service_name}.</p>\n"
            "<ul>\n"
            "<li>Função anterior: <strong>${old_role}</strong></li>\n"
            "<li>Nova função: <strong>${new_role}</strong></li>\n"
            "</ul>\n"
            "<p>Se a sua nova função tiver menos permissões, a alteração vale imediatamente, "
            "inclusive em sessões que já estejam abertas. Se tiver mais permissões, saia e entre "
            "novamente para poder usá-las.</p>\n"
            "${notes_block}\n"
            "<p>Em caso de dúvidas, entre em contato com um administrador de <strong>"
            "${account_name}</strong>.</p>\n"
        ),
    ),
    "email_verification": (
        "Confirme seu endereço de e-mail em ${service_name}",
        (
            "Olá,\n"
            "\n"
            "Alguém, provavelmente você, fez um cadastro em ${service_name} com o endereço "
            "${recipient}. Para confirmar que esse endereço é seu, abra este link:\n"
            "${link}\n"
            "\n"
            "O link só pode ser usado uma vez e deixa de funcionar em ${expires}. Ao abri-lo, você "
            "deverá escolher a senha da sua conta pessoal (se preferir, pode manter a que usou no "
            "cadastro). Qualquer senha que outra pessoa possa ter definido para este endereço "
            "deixará de funcionar, e todas as sessões abertas da conta serão encerradas.\n"
            "\n"
            "Se você não fez esse cadastro, pode ignorar esta mensagem ou abrir o link para "
            "garantir que ninguém mais esteja usando seu endereço.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>Alguém, provavelmente você, fez um cadastro em ${service_name} com o endereço "
            "${recipient}. Para confirmar que esse endereço é seu, abra este link:</p>\n"
            '<p><a href="${link}">Confirmar meu endereço de e-mail</a></p>\n'
            "<p>O link só pode ser usado uma vez e deixa de funcionar em ${expires}. Ao abri-lo, "
            "você deverá escolher a senha da sua conta pessoal (se preferir, pode manter a que "
            "usou no cadastro). Qualquer senha que outra pessoa possa ter definido para este "
            "endereço deixará de funcionar, e todas as sessões abertas da conta serão "
            "encerradas.</p>\n"
            "<p>Se você não fez esse cadastro, pode ignorar esta mensagem ou abrir o link para "
            "garantir que ninguém mais esteja usando seu endereço.</p>\n"
        ),
    ),
    "password_reset": (
        "Escolha uma nova senha para ${service_name}",
        (
            "Olá,\n"
            "\n"
            "Foi solicitada uma nova senha para a conta pessoal ${recipient} em ${service_name}. "
            "Para escolhê-la, abra este link:\n"
            "${link}\n"
            "\n"
            "O link só pode ser usado uma vez e deixa de funcionar em ${expires}. Depois que você "
            "escolher a nova senha, todas as suas sessões serão encerradas e você precisará entrar "
            "novamente usando a nova senha.\n"
            "\n"
            "Se você não fez essa solicitação, ignore esta mensagem: sua senha continua a mesma.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>Foi solicitada uma nova senha para a conta pessoal ${recipient} em "
            "${service_name}. Para escolhê-la, abra este link:</p>\n"
            '<p><a href="${link}">Escolher uma nova senha</a></p>\n'
            "<p>O link só pode ser usado uma vez e deixa de funcionar em ${expires}. Depois que "
            "você escolher a nova senha, todas as suas sessões serão encerradas e você precisará "
            "entrar novamente usando a nova senha.</p>\n"
            "<p>Se você não fez essa solicitação, ignore esta mensagem: sua senha continua a "
            "mesma.</p>\n"
        ),
    ),
    "password_reset_unknown": (
        "Solicitação de senha em ${service_name}",
        (
            "Olá,\n"
            "\n"
            "Foi solicitada uma nova senha em ${service_name} para o endereço ${recipient}, mas "
            "não existe nenhuma conta pessoal com esse endereço.\n"
            "\n"
            "Se foi você, talvez tenha feito o cadastro com outro endereço: nesse caso, faça a "
            "solicitação novamente usando esse outro endereço. Se você não pediu nada, ignore esta "
            "mensagem; nada foi alterado.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>Foi solicitada uma nova senha em ${service_name} para o endereço ${recipient}, mas "
            "não existe nenhuma conta pessoal com esse endereço.</p>\n"
            "<p>Se foi você, talvez tenha feito o cadastro com outro endereço: nesse caso, faça a "
            "solicitação novamente usando esse outro endereço. Se você não pediu nada, ignore esta "
            "mensagem; nada foi alterado.</p>\n"
        ),
    ),
    "password_changed": (
        "Sua senha de ${service_name} foi alterada",
        (
            "Olá,\n"
            "\n"
            "A senha da conta pessoal ${recipient} em ${service_name} acabou de ser alterada, e "
            "todas as outras sessões abertas da conta foram encerradas.\n"
            "\n"
            "Se foi você que fez essa alteração, não é preciso fazer mais nada. Caso contrário, "
            "solicite imediatamente uma nova senha pela opção “Esqueci minha senha” da página de "
            "login: o link é enviado somente para este endereço.\n"
        ),
        (
            "<p>Olá,</p>\n"
            "<p>A senha da conta pessoal ${recipient} em ${service_name} acabou de ser alterada, e "
            "todas as outras sessões abertas da conta foram encerradas.</p>\n"
            "<p>Se foi você que fez essa alteração, não é preciso fazer mais nada. Caso contrário, "
            "solicite imediatamente uma nova senha pela opção “Esqueci minha senha” da página de "
            "login: o link é enviado somente para este endereço.</p>\n"
        ),
    ),
}
