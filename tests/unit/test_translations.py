"""Every page, email and ticket speaks English and German: each word a reader sees is in the
catalog (templates hold no text outside {% trans %} or _()), and German has every message,
with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CATALOG = ROOT / "translations" / "de" / "LC_MESSAGES" / "messages.po"
# Words no language translates: the shop's name.
UNTRANSLATED = {"eventsite"}
# Attributes a reader sees or hears.
SPOKEN_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label", "aria-roledescription")


def _extracted() -> set[str | tuple[str, str]]:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}  # as `make translations` collects them
    return {message for _file, _line, message, _comments, _context in
            extract_from_dir(str(ROOT), method_map, options_map, keywords)}


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG, "rb") as po:
        return read_po(po, locale="de")


def test_german_has_every_message_the_pages_emails_and_tickets_use(catalog):
    missing = sorted(str(m) for m in _extracted() if catalog.get(m if isinstance(m, str) else m[0]) is None)
    assert not missing, f"run `make translations` and translate: {missing[:20]}"
    untranslated = [m.id for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple)
                                                                          else (m.string,)))]
    assert not untranslated, f"German lacks: {untranslated[:20]}"


def test_german_messages_keep_their_placeholders(catalog):
    wrong = []
    for message in catalog:
        if message.id and message.python_format:
            try:
                python_format(catalog, message)
            except Exception as error:  # babel's TranslationError
                wrong.append(f"{message.id!r}: {error}")
    assert not wrong, wrong[:10]


_JINJA = re.compile(r"\{#.*?#\}|\{%-?\s*trans\b.*?endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
_EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%(?!-?\s*trans\b).*?%\}", re.S)
# A string literal in an expression that reads as words ("Sold out", "an unnamed device"), not wrapped in _().
_PHRASE = re.compile(r"""(?<![\w(])(["'])([A-Za-z]+ [^"']*[A-Za-z][^"']*|[A-Z][a-z]+)\1""")
_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->", re.S | re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&#?\w+;")


def _words(text: str) -> list[str]:
    return [word for word in re.findall(r"[^\W\d_]{2,}", text) if word not in UNTRANSLATED]


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.*")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_say_nothing_outside_the_catalog(path):
    source = _INVISIBLE.sub("", _JINJA.sub(" ", path.read_text()))
    found = []
    for tag in _TAG.findall(source):
        for name in SPOKEN_ATTRIBUTES:
            for value in re.findall(rf'\s{name}="([^"]*)"', tag):
                found += _words(value)
    found += _words(_ENTITY.sub(" ", _TAG.sub(" ", source)))
    for expression in _EXPRESSION.findall(path.read_text()):
        found += [phrase for _quote, phrase in _PHRASE.findall(expression)]
    assert not found, f"text outside {{% trans %}} / _(): {found[:12]}"
