"""Input rules: the email rule agrees with the pattern the OpenAPI document publishes."""
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsite.domain.errors import InvalidRequest
from eventsite.domain.rules import EMAIL_PATTERN, email_address, has_control_characters, normalize_email


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
