"""English (English) email texts for licensekit, tag ``en``.

Data only, in the format :mod:`licensekit.locales` describes.
"""

__all__ = ["DATE_FORMAT", "MONTHS", "NAME", "NOTES_LABEL", "ROLE_NAMES", "TAG", "TEMPLATES"]

TAG: str = "en"
NAME: str = "English"
MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DATE_FORMAT: str = "{day} {month} {year}, {time} UTC"
ROLE_NAMES: dict[str, str] = {
    "regular_member": "Regular Member",
    "account_administrator": "Account Administrator",
}
NOTES_LABEL: str = "Note from the administrator"
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "join_invitation": (
        "Join ${account_name} on ${service_name}",
        (
            "Hello,\n"
            "\n"
            '${inviter} has invited you to join the business account "${account_name}" on '
            "${service_name}.\n"
            "\n"
            "To accept, open your personal link:\n"
            "${link}\n"
            "\n"
            "If you already have a personal account, sign in with your current password. If you do "
            "not have one yet, choose a password and your personal account will be created for you."
            "\n"
            "\n"
            "The link can be used only once and stops working on ${expires}. It was created for "
            "${recipient} alone, so please do not forward it.\n"
            "\n"
            "If you did not expect this invitation, you can simply ignore this message.\n"
        ),
        (
            "<p>Hello,</p>\n"
            "<p>${inviter} has invited you to join the business account <strong>${account_name}"
            "</strong> on ${service_name}.</p>\n"
            '<p><a href="${link}">Accept the invitation</a></p>\n'
            "<p>If you already have a personal account, sign in with your current password. If you "
            "do not have one yet, choose a password and your personal account will be created for "
            "you.</p>\n"
            "<p>The link can be used only once and stops working on ${expires}. It was created for "
            "${recipient} alone, so please do not forward it.</p>\n"
            "<p>If you did not expect this invitation, you can simply ignore this message.</p>\n"
        ),
    ),
    "install_invitation": (
        "Install ${product} for ${account_name}",
        (
            "Hello,\n"
            "\n"
            '${inviter} invites you to install ${product}, licensed to the business account "'
            '${account_name}" on ${service_name}.\n'
            "\n"
            "How to install:\n"
            "\n"
            "1. Download the installer from your personal link:\n"
            "   ${link}\n"
            "2. Run the installer. In most cases it activates ${product} by itself, and there is "
            "nothing else to do.\n"
            "3. Only if you are asked for an activation code, type this one:\n"
            "   ${code}\n"
            "\n"
            "About the code: it is a temporary activation code, and it is personal. It is not the "
            "license key, it works only for this license, and it stops working on ${expires}. The "
            "download link expires at the same time. The link and the code were created for "
            "${recipient} alone, so please do not share them.\n"
            "\n"
            "If something does not work as described, or the code has expired, contact ${inviter}. "
            "If you did not expect this message, you can ignore it.\n"
        ),
        (
            "<p>Hello,</p>\n"
            "<p>${inviter} invites you to install <strong>${product}</strong>, licensed to the "
            "business account <strong>${account_name}</strong> on ${service_name}.</p>\n"
            "<p>How to install:</p>\n"
            "<ol>\n"
            '<li><a href="${link}">Download the installer</a> from your personal link.</li>\n'
            "<li>Run the installer. In most cases it activates ${product} by itself, and there is "
            "nothing else to do.</li>\n"
            "<li>Only if you are asked for an activation code, type this one: <code>${code}"
            "</code></li>\n"
            "</ol>\n"
            "<p>About the code: it is a temporary activation code, and it is personal. It is "
            "<strong>not</strong> the license key, it works only for this license, and it stops "
            "working on ${expires}. The download link expires at the same time. The link and the "
            "code were created for ${recipient} alone, so please do not share them.</p>\n"
            "<p>If something does not work as described, or the code has expired, contact "
            "${inviter}. If you did not expect this message, you can ignore it.</p>\n"
        ),
    ),
    "member_blocked": (
        "Your access to ${account_name} on ${service_name} is suspended",
        (
            "Hello,\n"
            "\n"
            '${actor} has blocked you in the business account "${account_name}" on '
            "${service_name}, so your access to this business account is suspended.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Your personal account is not affected: you can still sign in and use it as before. An "
            'administrator of "${account_name}" can unblock you at any time. If you have '
            "questions, please contact one of the account's administrators.\n"
        ),
        (
            "<p>Hello,</p>\n"
            "<p>${actor} has blocked you in the business account <strong>${account_name}</strong> "
            "on ${service_name}, so your access to this business account is suspended.</p>\n"
            "${notes_block}\n"
            "<p>Your personal account is not affected: you can still sign in and use it as before. "
            "An administrator of <strong>${account_name}</strong> can unblock you at any time. If "
            "you have questions, please contact one of the account's administrators.</p>\n"
        ),
    ),
    "member_removed": (
        "You are no longer a member of ${account_name} on ${service_name}",
        (
            "Hello,\n"
            "\n"
            '${actor} has removed you from the business account "${account_name}" on '
            "${service_name}. You are no longer a member of this account, and the installations "
            "and licenses you managed there are no longer available to you through it.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            "Your personal account stays as it is: you can still sign in and use it. If you have "
            'questions, please contact an administrator of "${account_name}".\n'
        ),
        (
            "<p>Hello,</p>\n"
            "<p>${actor} has removed you from the business account <strong>${account_name}"
            "</strong> on ${service_name}. You are no longer a member of this account, and the "
            "installations and licenses you managed there are no longer available to you through "
            "it.</p>\n"
            "${notes_block}\n"
            "<p>Your personal account stays as it is: you can still sign in and use it. If you "
            "have questions, please contact an administrator of <strong>${account_name}"
            "</strong>.</p>\n"
        ),
    ),
    "role_changed": (
        "Your role in ${account_name} on ${service_name} has changed",
        (
            "Hello,\n"
            "\n"
            '${actor} has changed your role in the business account "${account_name}" on '
            "${service_name}.\n"
            "\n"
            "Previous role: ${old_role}\n"
            "New role: ${new_role}\n"
            "\n"
            "If your new role gives you fewer rights, the change applies at once, including where "
            "you are already signed in. If it gives you more rights, sign out and sign in again to "
            "use them.\n"
            "\n"
            "${notes_block}\n"
            "\n"
            'If you have questions, please contact an administrator of "${account_name}".\n'
        ),
        (
            "<p>Hello,</p>\n"
            "<p>${actor} has changed your role in the business account <strong>${account_name}"
            "</strong> on ${service_name}.</p>\n"
            "<ul>\n"
            "<li>Previous role: <strong>${old_role}</strong></li>\n"
            "<li>New role: <strong>${new_role}</strong></li>\n"
            "</ul>\n"
            "<p>If your new role gives you fewer rights, the change applies at once, including "
            "where you are already signed in. If it gives you more rights, sign out and sign in "
            "again to use them.</p>\n"
            "${notes_block}\n"
            "<p>If you have questions, please contact an administrator of <strong>${account_name}"
            "</strong>.</p>\n"
        ),
    ),
    "email_verification": (
        "Confirm your email address for ${service_name}",
        (
            "Hello,\n"
            "\n"
            "Someone, probably you, signed up for ${service_name} with the address ${recipient}. "
            "To confirm that this address is yours, open this link:\n"
            "${link}\n"
            "\n"
            "The link works once and stops working on ${expires}. When you open it, you will be "
            "asked to choose the password of your personal account (you may keep the one you "
            "signed up with). Any password that someone else may have set for this address stops "
            "working, and you are signed out everywhere.\n"
            "\n"
            "If you did not sign up, you can ignore this message, or open the link to make sure "
            "that nobody else uses your address.\n"
        ),
        (
            "<p>Hello,</p>\n"
            "<p>Someone, probably you, signed up for ${service_name} with the address "
            "${recipient}. To confirm that this address is yours, open this link:</p>\n"
            '<p><a href="${link}">Confirm my email address</a></p>\n'
            "<p>The link works once and stops working on ${expires}. When you open it, you will be "
            "asked to choose the password of your personal account (you may keep the one you "
            "signed up with). Any password that someone else may have set for this address stops "
            "working, and you are signed out everywhere.</p>\n"
            "<p>If you did not sign up, you can ignore this message, or open the link to make sure "
            "that nobody else uses your address.</p>\n"
        ),
    ),
    "password_reset": (
        "Choose a new password for ${service_name}",
        (
            "Hello,\n"
            "\n"
            "A new password was requested for the personal account ${recipient} on "
            "${service_name}. To choose one, open this link:\n"
            "${link}\n"
            "\n"
            "The link works once and stops working on ${expires}. Once you have chosen the new "
            "password, you will be signed out everywhere and can sign in again with it.\n"
            "\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n"
        ),
        (
            "<p>Hello,</p>\n"
            "<p>A new password was requested for the personal account ${recipient} on "
            "${service_name}. To choose one, open this link:</p>\n"
            '<p><a href="${link}">Choose a new password</a></p>\n'
            "<p>The link works once and stops working on ${expires}. Once you have chosen the new "
            "password, you will be signed out everywhere and can sign in again with it.</p>\n"
            "<p>If you did not ask for this, ignore this message: your password stays as it "
            "is.</p>\n"
        ),
    ),
    "password_reset_unknown": (
        "Password request for ${service_name}",
        (
            "Hello,\n"
            "\n"
            "A new password was requested on ${service_name} for the address ${recipient}, but "
            "there is no personal account with this address.\n"
            "\n"
            "If it was you, perhaps you signed up with another address: try the request again "
            "with that one. If you did not ask for anything, ignore this message; nothing has "
            "changed.\n"
        ),
        (
            "<p>Hello,</p>\n"
            "<p>A new password was requested on ${service_name} for the address ${recipient}, but "
            "there is no personal account with this address.</p>\n"
            "<p>If it was you, perhaps you signed up with another address: try the request again "
            "with that one. If you did not ask for anything, ignore this message; nothing has "
            "changed.</p>\n"
        ),
    ),
    "password_changed": (
        "Your ${service_name} password was changed",
        (
            "Hello,\n"
            "\n"
            "The password of the personal account ${recipient} on ${service_name} has just been "
            "changed, and the account was signed out everywhere else.\n"
            "\n"
            "If you made this change, there is nothing else to do. If you did not, ask for a new "
            "password at once with the “forgotten password” option of the sign-in page: the "
            "link is sent to this address only.\n"
        ),
        (
            "<p>Hello,</p>\n"
            "<p>The password of the personal account ${recipient} on ${service_name} has just been "
            "changed, and the account was signed out everywhere else.</p>\n"
            "<p>If you made this change, there is nothing else to do. If you did not, ask for a "
            "new password at once with the “forgotten password” option of the sign-in "
            "page: the link is sent to this address only.</p>\n"
        ),
    ),
}
