"""Input rules: the email rule agrees with the pattern the OpenAPI document publishes."""
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsite.domain import rules
from eventsite.domain.errors import InvalidRequest
from eventsite.domain.rules import EMAIL_PATTERN, email_address, has_control_characters, normalize_email
from eventsite.infra.addresses import checked_address


@pytest.fixture(autouse=True)
def basic_rule_only():
    """The basic rule, as the domain has it on its own (an app installs email-validator's check)."""
    installed = rules.use_email_check(None)
    yield
    rules.use_email_check(installed)


@pytest.mark.parametrize("good", ["ann@example.test", "a@b", "Ann_Smith@Mail.test", "x@y@z"])
def test_addresses_with_an_inner_at_are_accepted_as_given(good):
    assert email_address(good) == good


@pytest.mark.parametrize("bad", ["", "ann", "@example.test", "ann@", "a\x00@b.test", "a@b\n", "a" * 250 + "@b.test"])
def test_other_addresses_are_refused_on_the_email_field(bad):
    with pytest.raises(InvalidRequest) as refused:
        email_address(bad)
    assert refused.value.field == "email" and refused.value.message == "Enter a valid email address."


@given(st.text(alphabet=st.sampled_from("ab@ \x00\x1f\x7fé"), max_size=8))
def test_the_published_pattern_says_exactly_what_the_rule_accepts(text):
    try:
        email_address(text)
        accepted = True
    except InvalidRequest:
        accepted = False
    assert accepted == bool(re.fullmatch(EMAIL_PATTERN, text))


def test_control_characters_and_normalizing():
    assert has_control_characters("a\tb") and has_control_characters("\x7f") and not has_control_characters("é ü")
    assert normalize_email("  Ann@Example.TEST ") == "ann@example.test" and normalize_email(None) == ""


def test_spaces_around_an_address_are_trimmed():
    assert email_address("  ann@example.test ") == "ann@example.test"


@pytest.mark.parametrize(("typed", "stored"), [("  Ann@Example.TEST ", "Ann@example.test"),
                                               ("fan@exämple.de", "fan@exämple.de")])
def test_with_the_full_check_installed_addresses_are_normalized(typed, stored):
    rules.use_email_check(checked_address)
    assert email_address(typed) == stored


@pytest.mark.parametrize("bad", ["a@b", "x@y@z", "a b@example.test", "fan@localhost", "a..b@example.test"])
def test_with_the_full_check_installed_what_email_validator_refuses_is_refused(bad):
    rules.use_email_check(checked_address)
    with pytest.raises(InvalidRequest) as refused:
        email_address(bad)
    assert refused.value.field == "email" and refused.value.message.startswith("Enter a valid email address: ")
