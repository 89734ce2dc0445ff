"""Alert emails: rendered from a template, sent by SMTP, or written as .eml files when
no SMTP host is configured (so a laptop run still shows what would have been sent)."""

from __future__ import annotations

import logging
import re
import smtplib
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from chipwire.contract import AlertEvent
from chipwire.errors import Retry
from chipwire.settings import Settings

log = logging.getLogger(__name__)

_ENV = Environment(
    loader=PackageLoader("alerts", "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # noqa: S701 -- plain-text email bodies, never rendered as HTML
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SEND_ATTEMPTS = 3


def safe_subject(text: str) -> str:
    """No control characters and no encoded-word openers: this Python (3.11.7) still lets an
    encoded newline in a subject turn into a new header (CVE-2024-6923)."""
    return _CONTROL.sub(" ", text).replace("=?", "= ?").strip()[:200]


def render(alert: AlertEvent, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = safe_subject(
        f"[chipwire] {alert.jurisdiction} on {alert.subject}: {alert.previous} → {alert.current}"
    )
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.alert_recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=alert.id, domain="chipwire.local")
    message["X-Chipwire-Alert-Id"] = alert.id
    message.set_content(_ENV.get_template("shift.txt.j2").render(alert=alert))
    return message


def deliver(message: EmailMessage, settings: Settings) -> str:
    """Send or write one email; returns "sent" or "written". Raises Retry if SMTP refuses."""
    if not settings.smtp_host:
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        path = settings.outbox_dir / f"{message['X-Chipwire-Alert-Id']}.eml"
        path.write_bytes(bytes(message))
        log.info("alert email written to %s (no SMTP host configured)", path)
        return "written"
    last_error: Exception | None = None
    for attempt in range(_SEND_ATTEMPTS):
        try:
            _smtp_send(message, settings)
            return "sent"
        except (smtplib.SMTPException, OSError) as exc:
            last_error = exc
            log.warning("alert email attempt %d failed: %s", attempt + 1, exc)
            time.sleep(0.5 * 2**attempt)  # backoff between SMTP attempts
    raise Retry("smtp-failed", str(last_error))


def _smtp_send(message: EmailMessage, settings: Settings) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def outbox_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.eml")) if directory.exists() else []
