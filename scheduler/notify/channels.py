"""The ways a notice leaves the service: email over SMTP and a WeCom/DingTalk-style group robot webhook.

Both carry a key fixed by the notice's dedup key, so a re-send after a crash (see outbox.py) is
recognisable as the same notice: the email's `Message-ID`, and the webhook's `Idempotency-Key` header
(`idempotency_key`). A receiver that honours the header (a relay, a gateway in front of the robots, an
in-house receiver) delivers the re-send once. The WeCom and DingTalk group-robot bodies have no field
for it (`{"msgtype": "text", "text": {"content": ...}}` is all the text message defines, and the robots
themselves do not dedupe), so the body stays exactly their format and the key travels in the header only.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Protocol

IDEMPOTENCY_HEADER = "Idempotency-Key"

import httpx2

from config.settings import Settings


@dataclass(frozen=True)
class OutgoingNotice:
    """What a channel needs to send one notice; built by the outbox from a `notices` row."""

    dedup_key: str
    address: str
    subject: str
    body: str
    language: str = "zh-CN"


class DeliveryError(Exception):
    """A send that did not go through; `permanent` means retrying cannot help (a refused recipient, say)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


Accepted = Callable[[], None]


class Channel(Protocol):
    """A way to deliver notices: `send` returns when the receiver accepted, or raises DeliveryError.

    A channel whose receiver says "accepted" before the conversation ends (SMTP's 250 to DATA, before
    QUIT) calls `accepted` at that moment, so the outbox can record the notice sent without waiting for
    the goodbye; nothing after that call may turn the send into a failure.
    """

    name: str

    def send(self, notice: OutgoingNotice, accepted: Accepted | None = None) -> None: ...


def _key_digest(dedup_key: str) -> str:
    return hashlib.sha256(dedup_key.encode()).hexdigest()[:32]


def message_id_for(dedup_key: str, domain: str) -> str:
    """A Message-ID fixed by the dedup key, so a re-send after a crash is recognisable as the same mail."""
    return f"<rota.{_key_digest(dedup_key)}@{domain}>"


def idempotency_key(dedup_key: str) -> str:
    """The webhook's Idempotency-Key for a notice: fixed by its dedup key, ASCII, the same digest as its Message-ID."""
    return f"rota.{_key_digest(dedup_key)}"


class EmailChannel:
    """Plain SMTP with optional STARTTLS and login; one connection per send keeps failures independent."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = "rota@localhost",
        user: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        # None: the system's trusted CAs; a hospital mail server with a private CA passes its own context.
        self.ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel:
        """The channel described by the ROTA_SMTP_* settings."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )

    @property
    def message_id_domain(self) -> str:
        return self.sender.rpartition("@")[2] or "localhost"

    def build_message(self, notice: OutgoingNotice) -> EmailMessage:
        """The MIME message for a notice: UTF-8 text, a stable Message-ID, the notice language."""
        message = EmailMessage()
        message["Subject"] = notice.subject
        message["From"] = formataddr(("乡镇下沉排班" if notice.language == "zh-CN" else "Township rota", self.sender))
        message["To"] = notice.address
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id_for(notice.dedup_key, self.message_id_domain)
        message["Content-Language"] = notice.language
        message["X-Rota-Notice"] = notice.dedup_key
        message.set_content(notice.body, charset="utf-8")
        return message

    def send(self, notice: OutgoingNotice, accepted: Accepted | None = None) -> None:
        """Hand the notice to the SMTP server; DeliveryError on any refusal or network failure before its 250 to DATA.

        `accepted` is called right after that 250, before QUIT: from then on the mail is the server's, and a
        failing QUIT or a lost connection is not the notice's failure.
        """
        message = self.build_message(notice)
        smtp: smtplib.SMTP | None = None
        handed_over = False
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)
            handed_over = True
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"SMTP refused the recipient {notice.address}: {error.recipients}", permanent=True) from error
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"SMTP login failed for {self.user}: {error.smtp_code} {error.smtp_error!r}") from error
        except smtplib.SMTPResponseException as error:
            # Only a refused recipient is this notice's own fault; any other refusal (TLS required, sender
            # refused, a full mailbox server) is the server's or our configuration's: retry within the limit.
            raise DeliveryError(f"SMTP {self.host}:{self.port} answered {error.smtp_code} {error.smtp_error!r}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port} unreachable or failed: {error!r}") from error
        finally:
            if smtp is not None and not handed_over:
                smtp.close()  # a failed conversation: no goodbye
        if accepted is not None:
            accepted()
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()  # the server already has the mail; its goodbye does not matter


class WebhookChannel:
    """A group robot (WeCom 企业微信 / DingTalk 钉钉): JSON POST of a text message; errcode != 0 is a failure."""

    name = "webhook"

    def __init__(self, default_url: str = "", timeout: float = 10.0) -> None:
        self.default_url = default_url
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookChannel:
        """The channel for ROTA_WEBHOOK_URL (a notice may carry its own robot URL as its address)."""
        return cls(default_url=settings.webhook_url)

    @staticmethod
    def payload(notice: OutgoingNotice) -> dict:
        """The robot's text-message body, the same shape for WeCom and DingTalk."""
        return {"msgtype": "text", "text": {"content": f"{notice.subject}\n{notice.body}"}}

    @staticmethod
    def headers(notice: OutgoingNotice) -> dict[str, str]:
        """The request headers beyond JSON's: the notice's idempotency key."""
        return {IDEMPOTENCY_HEADER: idempotency_key(notice.dedup_key)}

    def send(self, notice: OutgoingNotice, accepted: Accepted | None = None) -> None:
        """POST the notice to the robot; DeliveryError on a network failure, a non-2xx answer or a non-zero errcode.

        The answer is the acceptance, so `accepted` is not needed: the outbox records the outcome when this returns.
        """
        url = notice.address or self.default_url
        if not url:
            raise DeliveryError("no webhook URL (set ROTA_WEBHOOK_URL or the contact's webhook_url)", permanent=True)
        try:
            response = httpx2.post(url, json=self.payload(notice), headers=self.headers(notice), timeout=self.timeout)
        except httpx2.HTTPError as error:
            raise DeliveryError(f"webhook {url} unreachable: {error!r}") from error
        if not 200 <= response.status_code < 300:
            # 4xx (bad robot key, bad body) will not fix itself, except 429 (rate limit: robots allow ~20/min).
            permanent = 400 <= response.status_code < 500 and response.status_code != 429
            raise DeliveryError(f"webhook answered HTTP {response.status_code}: {response.text[:200]}", permanent=permanent)
        try:
            answer = response.json()
        except (json.JSONDecodeError, ValueError):
            return  # a 2xx without JSON: a receiver that is not a robot but accepted the post
        if isinstance(answer, dict) and answer.get("errcode", 0) not in (0, "0"):
            raise DeliveryError(f"webhook robot refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The channels that the settings configure (email needs ROTA_SMTP_HOST; webhook is always able to use a contact's URL)."""
    channels: dict[str, Channel] = {"webhook": WebhookChannel.from_settings(settings)}
    if settings.smtp_host:
        channels["email"] = EmailChannel.from_settings(settings)
    return channels
