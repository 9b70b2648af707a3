# Full-width commas, colons and parentheses are the correct punctuation in this
# language; ruff's RUF001 would flag them as confusable with ASCII ones.
# ruff: noqa: RUF001
"""Simplified Chinese (简体中文) email texts for licensekit, tag ``zh-Hans``.

Data only, in the format :mod:`licensekit.locales` describes.
"""

__all__ = ["DATE_FORMAT", "MONTHS", "NAME", "NOTES_LABEL", "ROLE_NAMES", "TAG", "TEMPLATES"]

TAG: str = "zh-Hans"
NAME: str = "简体中文"
MONTHS: tuple[str, ...] = (
    "1月",
    "2月",
    "3月",
    "4月",
    "5月",
    "6月",
    "7月",
    "8月",
    "9月",
    "10月",
    "11月",
    "12月",
)
DATE_FORMAT: str = "{year}年{month_number}月{day}日 {time} UTC"
ROLE_NAMES: dict[str, str] = {
    "regular_member": "普通成员",
    "account_administrator": "账户管理员",
}
NOTES_LABEL: str = "管理员备注"
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "join_invitation": (
        "邀请您加入 ${service_name} 上的企业账户“${account_name}”",
        (
            "您好，\n"
            "\n"
            "${inviter} 邀请您加入 ${service_name} 上的企业账户“${account_name}”。\n"
            "\n"
            "请打开以下个人专属链接，接受邀请：\n"
            "${link}\n"
            "\n"
            "如果您已有个人账户，请使用当前密码登录；如果还没有，请设置一个密码，系统会为您创建个人"
            "账户。\n"
            "\n"
            "此链接只能使用一次，将于 ${expires} 失效。它是专为 ${recipient} 生成的，请勿转发给他"
            "人。\n"
            "\n"
            "如果您没有预期会收到此邀请，可以忽略本邮件。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>${inviter} 邀请您加入 ${service_name} 上的企业账户<strong>“${account_name}"
            "”</strong>。</p>\n"
            '<p><a href="${link}">接受邀请</a></p>\n'
            "<p>如果您已有个人账户，请使用当前密码登录；如果还没有，请设置一个密码，系统会为您创建"
            "个人账户。</p>\n"
            "<p>此链接只能使用一次，将于 ${expires} 失效。它是专为 ${recipient} 生成的，请勿转发给"
            "他人。</p>\n"
            "<p>如果您没有预期会收到此邀请，可以忽略本邮件。</p>\n"
        ),
    ),
    "install_invitation": (
        "请安装 ${product}（由“${account_name}”提供许可）",
        (
            "您好，\n"
            "\n"
            "${inviter} 邀请您安装 ${product}，许可证由 ${service_name} 上的企业账户“"
            "${account_name}”提供。\n"
            "\n"
            "安装步骤：\n"
            "\n"
            "1. 通过您的个人专属链接下载安装程序：\n"
            "   ${link}\n"
            "2. 运行安装程序。通常它会自动激活 ${product}，您无需进行其他操作。\n"
            "3. 仅当系统要求输入激活码时，才需输入以下激活码：\n"
            "   ${code}\n"
            "\n"
            "关于此激活码：这是专属于您的临时激活码。它不是许可证密钥，仅适用于此许可证，并将于 "
            "${expires} 失效。下载链接也会在同一时间失效。链接和激活码专为 ${recipient} 生成，请勿"
            "与他人共享。\n"
            "\n"
            "如果安装过程与上述说明不符，或激活码已过期，请联系 ${inviter}。如果您没有预期会收到本"
            "邮件，可以忽略它。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>${inviter} 邀请您安装 <strong>${product}</strong>，许可证由 ${service_name} 上的企"
            "业账户<strong>“${account_name}”</strong>提供。</p>\n"
            "<p>安装步骤：</p>\n"
            "<ol>\n"
            '<li>通过您的<a href="${link}">个人专属下载链接</a>下载安装程序。</li>\n'
            "<li>运行安装程序。通常它会自动激活 ${product}，您无需进行其他操作。</li>\n"
            "<li>仅当系统要求输入激活码时，才需输入以下激活码：<code>${code}</code></li>\n"
            "</ol>\n"
            "<p>关于此激活码：这是专属于您的临时激活码。它<strong>不是</strong>许可证密钥，仅适用于"
            "此许可证，并将于 ${expires} 失效。下载链接也会在同一时间失效。链接和激活码专为 "
            "${recipient} 生成，请勿与他人共享。</p>\n"
            "<p>如果安装过程与上述说明不符，或激活码已过期，请联系 ${inviter}。如果您没有预期会收到"
            "本邮件，可以忽略它。</p>\n"
        ),
    ),
    "member_blocked": (
        "您对 ${service_name} 上企业账户“${account_name}”的访问已被暂停",
        (
            "您好，\n"
            "\n"
            "${actor} 已禁用您对 ${service_name} 上企业账户“${account_name}”的访问权限。您目前无法"
            "访问该企业账户。\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "您的个人账户不受影响，您仍可照常登录和使用。“${account_name}”的管理员可以随时为您解除"
            "禁用。如有疑问，请联系该账户的管理员。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>${actor} 已禁用您对 ${service_name} 上企业账户<strong>“${account_name}”</strong>的"
            "访问权限。您目前无法访问该企业账户。</p>\n"
            "${notes_block}\n"
            "<p>您的个人账户不受影响，您仍可照常登录和使用。<strong>“${account_name}”</strong>的管"
            "理员可以随时为您解除禁用。如有疑问，请联系该账户的管理员。</p>\n"
        ),
    ),
    "member_removed": (
        "您已不再是 ${service_name} 上企业账户“${account_name}”的成员",
        (
            "您好，\n"
            "\n"
            "${actor} 已将您从 ${service_name} 上的企业账户“${account_name}”中移除。您已不再是该账"
            "户的成员，您之前在其中管理的安装和许可证也无法再通过该账户使用。\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "您的个人账户保持不变，您仍可登录和使用。如有疑问，请联系“${account_name}”的管理员。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>${actor} 已将您从 ${service_name} 上的企业账户<strong>“${account_name}”</strong>中"
            "移除。您已不再是该账户的成员，您之前在其中管理的安装和许可证也无法再通过该账户使用。"
            "</p>\n"
            "${notes_block}\n"
            "<p>您的个人账户保持不变，您仍可登录和使用。如有疑问，请联系<strong>“${account_name}"
            "”</strong>的管理员。</p>\n"
        ),
    ),
    "role_changed": (
        "您在 ${service_name} 上企业账户“${account_name}”中的角色已变更",
        (
            "您好，\n"
            "\n"
            "${actor} 已更改您在 ${service_name} 上企业账户“${account_name}”中的角色。\n"
            "\n"
            "原角色：${old_role}\n"
            "新角色：${new_role}\n"
            "\n"
            "如果新角色的权限比原来少，变更将立即生效，已登录的会话也不例外。如果新角色的权限比原来"
            "多，请先退出登录，再重新登录，方可使用新增的权限。\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "如有疑问，请联系“${account_name}”的管理员。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>${actor} 已更改您在 ${service_name} 上企业账户<strong>“${account_name}”</strong>中"
            "的角色。</p>\n"
            "<ul>\n"
            "<li>原角色：<strong>${old_role}</strong></li>\n"
            "<li>新角色：<strong>${new_role}</strong></li>\n"
            "</ul>\n"
            "<p>如果新角色的权限比原来少，变更将立即生效，已登录的会话也不例外。如果新角色的权限比"
            "原来多，请先退出登录，再重新登录，方可使用新增的权限。</p>\n"
            "${notes_block}\n"
            "<p>如有疑问，请联系<strong>“${account_name}”</strong>的管理员。</p>\n"
        ),
    ),
    "email_verification": (
        "请确认您在 ${service_name} 上使用的电子邮件地址",
        (
            "您好，\n"
            "\n"
            "有人（很可能是您本人）使用地址 ${recipient} 注册了 ${service_name}。请打开以下链接，确"
            "认此地址归您所有：\n"
            "${link}\n"
            "\n"
            "此链接只能使用一次，将于 ${expires} 失效。打开链接后，系统会请您设置个人账户的密码（也"
            "可以继续使用注册时设置的密码）。他人可能为此地址设置的任何密码都将失效，该账户的所有登"
            "录会话也都会被退出。\n"
            "\n"
            "如果您没有注册过，可以忽略本邮件；您也可以打开此链接，以确保没有其他人在使用您的地址。"
            "\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>有人（很可能是您本人）使用地址 ${recipient} 注册了 ${service_name}。请打开以下链"
            "接，确认此地址归您所有：</p>\n"
            '<p><a href="${link}">确认我的电子邮件地址</a></p>\n'
            "<p>此链接只能使用一次，将于 ${expires} 失效。打开链接后，系统会请您设置个人账户的密码"
            "（也可以继续使用注册时设置的密码）。他人可能为此地址设置的任何密码都将失效，该账户的所"
            "有登录会话也都会被退出。</p>\n"
            "<p>如果您没有注册过，可以忽略本邮件；您也可以打开此链接，以确保没有其他人在使用您的地"
            "址。</p>\n"
        ),
    ),
    "password_reset": (
        "为您在 ${service_name} 上的账户设置新密码",
        (
            "您好，\n"
            "\n"
            "有人为 ${service_name} 上的个人账户 ${recipient} 申请了新密码。请打开以下链接设置新密"
            "码：\n"
            "${link}\n"
            "\n"
            "此链接只能使用一次，将于 ${expires} 失效。设置新密码后，您将在所有设备和浏览器上退出登"
            "录，之后请使用新密码重新登录。\n"
            "\n"
            "如果这不是您本人的操作，请忽略本邮件，您的密码将保持不变。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>有人为 ${service_name} 上的个人账户 ${recipient} 申请了新密码。请打开以下链接设置新"
            "密码：</p>\n"
            '<p><a href="${link}">设置新密码</a></p>\n'
            "<p>此链接只能使用一次，将于 ${expires} 失效。设置新密码后，您将在所有设备和浏览器上退"
            "出登录，之后请使用新密码重新登录。</p>\n"
            "<p>如果这不是您本人的操作，请忽略本邮件，您的密码将保持不变。</p>\n"
        ),
    ),
    "password_reset_unknown": (
        "关于您在 ${service_name} 上的密码申请",
        (
            "您好，\n"
            "\n"
            "有人在 ${service_name} 上为地址 ${recipient} 申请了新密码，但该地址没有对应的个人账"
            "户。\n"
            "\n"
            "如果是您本人申请的，您可能是用其他地址注册的，请使用那个地址重新申请。如果您没有申请"
            "过，请忽略本邮件，您的任何信息都没有被更改。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>有人在 ${service_name} 上为地址 ${recipient} 申请了新密码，但该地址没有对应的个人账"
            "户。</p>\n"
            "<p>如果是您本人申请的，您可能是用其他地址注册的，请使用那个地址重新申请。如果您没有申"
            "请过，请忽略本邮件，您的任何信息都没有被更改。</p>\n"
        ),
    ),
    "password_changed": (
        "您在 ${service_name} 上的密码已更改",
        (
            "您好，\n"
            "\n"
            "${service_name} 上个人账户 ${recipient} 的密码刚刚被更改了，该账户在其他所有地方的登录"
            "均已退出。\n"
            "\n"
            "如果是您本人进行的更改，则无需任何操作。如果不是，请立即通过登录页面上的“忘记密码”选项"
            "申请新密码：链接只会发送到此地址。\n"
        ),
        (
            "<p>您好，</p>\n"
            "<p>${service_name} 上个人账户 ${recipient} 的密码刚刚被更改了，该账户在其他所有地方的"
            "登录均已退出。</p>\n"
            "<p>如果是您本人进行的更改，则无需任何操作。如果不是，请立即通过登录页面上的“忘记密码”"
            "选项申请新密码：链接只会发送到此地址。</p>\n"
        ),
    ),
}
