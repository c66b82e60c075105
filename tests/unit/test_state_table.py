"""The order state machine's table, as DESIGN.md section 2 states it (no database)."""
import pytest

from eventsite.domain.errors import Conflict, IllegalTransition
from eventsite.domain.models import OrderStatus as S
from eventsite.domain.state_machine import ALLOWED, can_transition

DESIGNED = {
    (None, S.RESERVED),
    (S.RESERVED, S.PAYMENT_PROCESSING),
    (S.RESERVED, S.CONFIRMED), (S.PAYMENT_PROCESSING, S.CONFIRMED),
    (S.RESERVED, S.EXPIRED), (S.PAYMENT_PROCESSING, S.EXPIRED),
    (S.RESERVED, S.CANCELLED), (S.PAYMENT_PROCESSING, S.CANCELLED),
    (S.EXPIRED, S.CONFIRMED), (S.CANCELLED, S.CONFIRMED),
    (S.EXPIRED, S.REFUNDED), (S.CANCELLED, S.REFUNDED),
    (S.CONFIRMED, S.REFUNDED),
}


@pytest.mark.parametrize("current", [None, *S])
@pytest.mark.parametrize("to", list(S))
def test_every_move_is_allowed_exactly_when_the_design_allows_it(current, to):
    assert can_transition(current, to) == ((current, to) in DESIGNED or current == to)


def test_the_table_names_every_status_and_refunded_is_final():
    assert set(ALLOWED) == {None, *S}
    assert ALLOWED[S.REFUNDED] == frozenset()


def test_a_refused_move_is_a_409_conflict_that_says_what_was_refused():
    error = IllegalTransition(S.EXPIRED, S.CANCELLED)
    assert isinstance(error, Conflict) and error.http_status == 409 and error.code == "conflict"
    assert error.message == "An order that is expired cannot become cancelled."
