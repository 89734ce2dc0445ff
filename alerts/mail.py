"""Alert emails: multipart/alternative (plain text + HTML) rendered from templates, sent
by SMTP, or written as .eml files when no SMTP host is configured (so a laptop run still
shows what would have been sent)."""

from __future__ import annotations

import logging
import re
import smtplib
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from chipwire.contract import AlertEvent
from chipwire.errors import Retry
from chipwire.settings import Settings

log = logging.getLogger(__name__)

_ENV = Environment(
    loader=PackageLoader("alerts", "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html.j2"]),  # HTML bodies escaped, plain text left as is
    trim_blocks=True,
    lstrip_blocks=True,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SEND_ATTEMPTS = 2


def safe_subject(text: str) -> str:
    """No control characters and no encoded-word openers: this Python (3.11.7) still lets an
    encoded newline in a subject turn into a new header (CVE-2024-6923)."""
    return _CONTROL.sub(" ", text).replace("=?", "= ?").strip()[:200]


def headline(alert: AlertEvent) -> str:
    return f"{alert.jurisdiction} on {alert.subject}: {alert.previous} → {alert.current}"


def timeline_url(alert: AlertEvent, public_url: str) -> str:
    if not public_url:
        return ""
    subject, jurisdiction = quote(alert.subject, safe=""), quote(alert.jurisdiction, safe="")
    return f"{public_url.rstrip('/')}/alerts/timeline/{subject}/{jurisdiction}"


def render(
    alert: AlertEvent, recipients: list[str], settings: Settings, now: datetime | None = None
) -> EmailMessage:
    """One shift, as it would be sent."""
    context = {
        "alert": alert,
        "items": evidence_items(alert),
        "link": timeline_url(alert, settings.public_url),
    }
    message = _envelope(
        f"[chipwire] {headline(alert)}", recipients, settings, alert.id, now or datetime.now(UTC)
    )
    message.set_content(_ENV.get_template("shift.txt.j2").render(**context))
    message.add_alternative(_ENV.get_template("shift.html.j2").render(**context), subtype="html")
    return message


def render_digest(
    alerts: list[AlertEvent], recipient: str, settings: Settings, now: datetime
) -> EmailMessage:
    """Every shift queued for one daily-digest recipient, in one email."""
    entries = [
        {"alert": a, "items": evidence_items(a), "link": timeline_url(a, settings.public_url)}
        for a in alerts
    ]
    key = f"digest-{recipient}-{now:%Y%m%d}"
    message = _envelope(
        f"[chipwire] daily digest: {len(alerts)} policy shift(s)", [recipient], settings, key, now
    )
    message.set_content(_ENV.get_template("digest.txt.j2").render(entries=entries, now=now))
    message.add_alternative(
        _ENV.get_template("digest.html.j2").render(entries=entries, now=now), subtype="html"
    )
    return message


def _envelope(
    subject: str, recipients: list[str], settings: Settings, key: str, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = safe_subject(subject)
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now.astimezone(UTC))  # "+0000", not "-0000"
    message["Message-ID"] = make_msgid(idstring=_CONTROL.sub("", key)[:64], domain="chipwire.local")
    message["X-Chipwire-Alert-Id"] = safe_subject(key)
    return message


def evidence_items(alert: AlertEvent) -> list[dict[str, str]]:
    """Each confirming report: its evidence sentence, link and outlet."""
    urls = alert.urls or [alert.url]
    outlets = alert.outlets or [""]
    return [
        {
            "evidence": sentence,
            "url": urls[i] if i < len(urls) else alert.url,
            "outlet": outlets[i] if i < len(outlets) else "",
        }
        for i, sentence in enumerate(alert.evidence)
    ]


def deliver(message: EmailMessage, settings: Settings) -> str:
    """Send or write one email; returns "sent" or "written". Raises Retry if SMTP refuses."""
    if not settings.smtp_host:
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(message["X-Chipwire-Alert-Id"]))
        path = settings.outbox_dir / f"{name}.eml"
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
            if attempt + 1 < _SEND_ATTEMPTS:
                time.sleep(0.5)  # one quick retry for a blip; later ones wait alert_retry_s
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
