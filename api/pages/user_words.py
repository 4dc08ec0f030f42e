"""The words of the office users page (`/office/users`) and of its audit entries (zh-CN default, English), added to the pages' one word table at import.

What is wrong with a typed name or password is worded where the rule is (`scheduler.office_users.PROBLEMS`);
`users_problem` only puts the field in front of it in English, where the rule's text does not name it.
"""

from __future__ import annotations

from api.pages.words import add_page_words

USER_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "nav_users": "账号",
        "users_title": "医务科账号",
        "users_intro": "医务科人员用用户名和密码登录。停用的账号不能再登录，已登录的会话立即结束；设置新密码后，该账号在其他设备上的会话也会结束。每次改动都记入操作记录。",
        "users_add": "新增账号",
        "users_name": "用户名",
        "users_password": "密码（至少 8 个字符）",
        "users_add_button": "新增账号",
        "users_list": "现有账号",
        "users_none": "还没有账号。",
        "users_state_active": "启用",
        "users_state_disabled": "已停用",
        "users_created": "创建于 {when}",
        "users_disabled_at": "停用于 {when}",
        "users_last_login": "最近登录 {when}",
        "users_never": "从未登录",
        "users_you": "（当前账号）",
        "users_new_password": "新密码（至少 8 个字符）",
        "users_set_password": "设置新密码",
        "users_disable": "停用此账号",
        "users_added": "已新增账号“{name}”，可以用它登录了。",
        "users_disabled_done": "已停用账号“{name}”，其会话已全部结束。",
        "users_password_done": "已为“{name}”设置新密码，其在其他设备上的会话已结束。",
        "users_name_taken": "已有名为“{name}”的账号，请换一个用户名。",
        "users_self_disable": "不能停用自己正在使用的账号，请让其他医务科人员操作。",
        "users_problem": "{message}",
        "users_field_name": "用户名",
        "users_field_password": "密码",
        "audit_kind_user": "账号",
        "audit_user_added": "新增账号“{name}”",
        "audit_user_disabled": "停用账号“{name}”",
        "audit_user_password": "为“{name}”设置新密码",
    },
    "en": {
        "nav_users": "Users",
        "users_title": "Office users",
        "users_intro": "People of the office log in with a name and a password. A disabled account cannot log in and its open sessions end at once; a new password ends the account's sessions on other devices. Every change goes into the audit trail.",
        "users_add": "Add a user",
        "users_name": "Name",
        "users_password": "Password (at least 8 characters)",
        "users_add_button": "Add the user",
        "users_list": "Accounts",
        "users_none": "No users yet.",
        "users_state_active": "active",
        "users_state_disabled": "disabled",
        "users_created": "created {when}",
        "users_disabled_at": "disabled {when}",
        "users_last_login": "last login {when}",
        "users_never": "never logged in",
        "users_you": "(you)",
        "users_new_password": "New password (at least 8 characters)",
        "users_set_password": "Set the password",
        "users_disable": "Disable this account",
        "users_added": "User {name} added: they can log in now.",
        "users_disabled_done": "User {name} is disabled; all their sessions have ended.",
        "users_password_done": "A new password is set for {name}; their sessions on other devices have ended.",
        "users_name_taken": "There is already a user named {name}: choose another name.",
        "users_self_disable": "You cannot disable the account you are using: ask another office user.",
        "users_problem": "{field}: {message}",
        "users_field_name": "Name",
        "users_field_password": "Password",
        "audit_kind_user": "office user",
        "audit_user_added": "added user {name}",
        "audit_user_disabled": "disabled user {name}",
        "audit_user_password": "set a new password for {name}",
    },
}

add_page_words(USER_WORDS, "office users page")
