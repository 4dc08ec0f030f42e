"""The words of the login forms, the login link page and the office's login links page (zh-CN default, English), added to the pages' one word table at import."""

from __future__ import annotations

from api.pages.words import PAGE_WORDS

LOGIN_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "user_login_title": "医务科账号登录",
        "user_name": "用户名",
        "password": "密码",
        "community_code": "医共体代码",
        "user_login_failed": "用户名或密码错误，或账号已停用。",
        "login_throttled": "登录失败次数过多，请 5 分钟后再试。",
        "token_login_title": "使用访问令牌登录",
        "login_link_hint": "卫生院负责人和专家：请打开医务科发给您的登录链接，或扫描医务科出示的二维码。",
        "link_login_title": "登录",
        "link_login_intro_township": "此链接供{name}负责人登录{community}专家下沉排班，只能使用一次。",
        "link_login_intro_expert": "此链接供{name}医生登录{community}专家下沉排班，只能使用一次。",
        "link_login_button": "确认登录",
        "link_spent": "此登录链接已使用、已过期或已被撤销。请向医务科索取新的登录链接。",
        "nav_logins": "登录链接",
        "logins_title": "登录链接",
        "logins_intro": "为卫生院负责人或专家生成一次性登录链接：可发送到其联系方式，或当面扫描二维码。链接只能使用一次，{hours}小时内有效。",
        "logins_person": "发给",
        "logins_townships": "卫生院负责人",
        "logins_experts": "专家",
        "logins_show": "生成并显示二维码",
        "logins_send": "生成并发送到联系方式",
        "logins_shown_once": "此链接只显示这一次，请让本人扫描二维码或转发给本人。",
        "logins_sent": "登录链接已发送给{name}（{channels}），{expires}前有效。",
        "logins_created": "已为{name}生成登录链接，{expires}前有效。",
        "logins_no_contact": "{name}还没有联系方式，无法发送。请先在“联系方式”中填写，或选择显示二维码。",
        "logins_live": "未使用的链接",
        "logins_none": "没有未使用的链接。",
        "logins_item": "{name}（{role}），{expires}前有效",
        "logins_revoke": "撤销",
        "logins_role_township": "卫生院负责人",
        "logins_role_expert": "专家",
        "logins_revoked": "已撤销该登录链接。",
        "logins_bad_person": "请选择卫生院或专家。",
    },
    "en": {
        "user_login_title": "Office login",
        "user_name": "User name",
        "password": "Password",
        "community_code": "Community code",
        "user_login_failed": "Wrong name or password, or the account is disabled.",
        "login_throttled": "Too many failed logins: please try again in 5 minutes.",
        "token_login_title": "Log in with an access token",
        "login_link_hint": "Township heads and experts: open the login link the medical affairs office sent you, or scan the QR code it shows you.",
        "link_login_title": "Log in",
        "link_login_intro_township": "This link logs the head of {name} in to the {community} township rota. It works once.",
        "link_login_intro_expert": "This link logs Dr {name} in to the {community} township rota. It works once.",
        "link_login_button": "Log me in",
        "link_spent": "This login link has been used, has expired or was revoked. Ask the medical affairs office for a new one.",
        "nav_logins": "Login links",
        "logins_title": "Login links",
        "logins_intro": "Make a one-time login link for a township head or an expert: send it to their contact, or let them scan the QR code. A link works once, for {hours} hours.",
        "logins_person": "For",
        "logins_townships": "Township heads",
        "logins_experts": "Experts",
        "logins_show": "Make it and show the QR code",
        "logins_send": "Make it and send it to their contact",
        "logins_shown_once": "This link is shown only now: let the person scan the QR code or forward it to them.",
        "logins_sent": "The login link was sent to {name} ({channels}); it works until {expires}.",
        "logins_created": "A login link for {name} was made; it works until {expires}.",
        "logins_no_contact": "{name} has no contact yet, so nothing can be sent. Enter one under Contacts first, or show the QR code.",
        "logins_live": "Unused links",
        "logins_none": "No unused links.",
        "logins_item": "{name} ({role}), until {expires}",
        "logins_revoke": "Revoke",
        "logins_role_township": "township head",
        "logins_role_expert": "expert",
        "logins_revoked": "The login link was revoked.",
        "logins_bad_person": "Choose a township or an expert.",
    },
}

for _lang, _words in LOGIN_WORDS.items():
    _clashing = set(_words) & set(PAGE_WORDS[_lang])
    if _clashing:
        raise RuntimeError(f"login page words defined twice: {sorted(_clashing)}")
    PAGE_WORDS[_lang].update(_words)
