"""Email over SMTP with Flask-Mailman (settings MAIL_*): a plain-text body, an HTML
alternative, attachments and inline images (QR codes, referenced as ``cid:``).

Callers send with no database transaction open: SMTP can take seconds, and a
lock or snapshot held meanwhile would stall the shop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email.mime.image import MIMEImage

from flask import Flask
from flask_mailman import EmailMultiAlternatives, Mail

mail = Mail()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str
    content_id: str | None = None  # set: an image shown inside the HTML part (<img src="cid:...">)


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    # The same for every attempt of one promise, so a message retried after a lost answer
    # is recognisably one message (mail clients thread and deduplicate on it).
    message_id: str
    attachments: tuple[Attachment, ...] = field(default=())


def init_app(app: Flask) -> None:
    mail.init_app(app)


def send(message: Message) -> None:
    """Hand the message to the SMTP server; raises (OSError, SMTPException) if it was not accepted."""
    email = EmailMultiAlternatives(message.subject, message.text, to=[message.to],
                                   headers={"Message-ID": message.message_id})
    email.attach_alternative(message.html, "text/html")
    for attachment in message.attachments:
        if attachment.content_id:
            image = MIMEImage(attachment.content, _subtype=attachment.mimetype.split("/")[1])
            image.add_header("Content-ID", f"<{attachment.content_id}>")
            image.add_header("Content-Disposition", "inline", filename=attachment.filename)
            email.attach(image)
        else:
            email.attach(attachment.filename, attachment.content, attachment.mimetype)
    email.send(fail_silently=False)
