"""A real SMTP server (aiosmtpd) for the whole test session: the app sends to it over
TCP and tests read what arrived, parsed as a mail client would. It can be told to
refuse mail for a while (451, a temporary failure) or be stopped and started again."""
from __future__ import annotations

import email
import socket
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusing = False
        self.while_receiving: Callable[[], object] | None = None  # a test's look at the world mid-send
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.while_receiving:
            self.while_receiving()
        if self.refusing:
            return "451 4.3.0 Mail server busy, try again later"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
        self.refusing, self.while_receiving = False, None


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self.controller is not None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
        self.controller = None


@pytest.fixture(scope="session")
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp_server):
    smtp_server.inbox.clear()
    yield smtp_server.inbox
    smtp_server.inbox.clear()
    if not smtp_server.running:  # a test that stopped it leaves it running for the next
        smtp_server.start()


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def attachment_names(message: EmailMessage) -> list[str]:
    return [part.get_filename() for part in message.iter_attachments() if part.get_filename()]


def attachment(message: EmailMessage, filename: str) -> bytes:
    return next(part.get_content() for part in message.iter_attachments() if part.get_filename() == filename)
