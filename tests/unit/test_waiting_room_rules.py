"""The waiting room's rules without services: the published draw, signed places and admissions,
how many a tick admits, and what a place is told."""
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from room_support import published_rule

from eventsite.domain import waiting_room as rules
from eventsite.domain.errors import AdmissionRefused, AdmissionRequired
from eventsite.domain.models import TicketType, WaitingRoom

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
SEED = "3f1c0a9e5b7d2468ace013579bdf2468ace013579bdf2468ace013579bdf2468"
FORGED_MESSAGE = "not one this shop gave out"


# --- the draw --------------------------------------------------------------------

def test_the_published_rule_reproduces_the_draw_exactly():
    places = list(range(1, 501))
    order = rules.drawn_order(SEED, places)
    assert order == published_rule(SEED, places)
    assert sorted(order) == places and order != places  # a shuffle of everyone, nobody lost
    assert rules.drawn_order(SEED, reversed(places)) == order  # arrival order does not matter
    assert rules.drawn_order("another seed", places) != order
    # Pinned, so a change of the rule cannot pass unnoticed (computed once with the code above).
    assert rules.drawn_order(SEED, range(1, 11)) == [4, 9, 5, 6, 3, 2, 7, 1, 8, 10]


def test_the_seed_hash_is_the_sha256_of_the_seed_text():
    assert rules.seed_hash(SEED) == hashlib.sha256(SEED.encode("ascii")).hexdigest()
    assert rules.seed_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    seeds = {rules.new_seed() for _ in range(20)}
    assert len(seeds) == 20 and all(len(s) == 64 and int(s, 16) >= 0 for s in seeds)


# --- signed places ---------------------------------------------------------------

def test_a_place_token_names_its_event_and_place_and_nothing_else():
    token = rules.place_token(KEY, 7, 42)
    assert rules.read_place_token(KEY, token) == (7, 42)
    assert rules.read_place_token(KEY, token, event_id=7) == (7, 42)
    assert rules.read_place_token(KEY, token, event_id=8) is None  # another event's room
    assert rules.read_place_token(b"other key", token) is None  # another installation
    event, place, signature = token.split(".")
    assert rules.read_place_token(KEY, f"{event}.43.{signature}") is None  # someone else's place


@pytest.mark.parametrize("token", [None, "", "7.42", "7.42.abc.def", "x.42.abc", "7.y.abc", "7.42.",
                                   "7.42." + "é" * 32])
def test_a_malformed_place_token_is_no_place(token):
    assert rules.read_place_token(KEY, token) is None


# --- signed admissions -------------------------------------------------------------

def admission(event_id=7, place=42, until=AT + timedelta(minutes=5)) -> str:
    return rules.admission_token(KEY, event_id, place, until)


def test_a_genuine_admission_lets_its_place_reserve_until_it_lapses():
    until = AT + timedelta(minutes=5)
    granted = rules.read_admission(KEY, admission(until=until), 7, AT)
    assert granted == rules.Admission(7, 42, until)
    assert rules.read_admission(KEY, admission(until=until), 7, until - timedelta(microseconds=1)) == granted


def test_an_admission_lapses_on_the_whole_second_its_token_carries():
    given = AT + timedelta(milliseconds=999)
    until = rules.admission_until(given, 5)
    assert until == AT + timedelta(minutes=5)
    assert rules.read_admission(KEY, admission(until=until), 7, given).valid_until == until


def test_no_admission_is_told_to_join_the_room():
    for token in (None, ""):
        with pytest.raises(AdmissionRequired, match="sold through its waiting room") as refused:
            rules.read_admission(KEY, token, 7, AT)
        assert refused.value.http_status == 403


@pytest.mark.parametrize("case, message", [
    ("forged", FORGED_MESSAGE), ("other key", FORGED_MESSAGE), ("longer", FORGED_MESSAGE),
    ("other event", "for another event"), ("lapsed", "has lapsed"), ("lapsed long ago", "has lapsed")])
def test_a_refused_admission_says_why(case, message):
    token = admission()
    event, place, until, signature = token.split(".")
    token = {"forged": f"{event}.{place}.{int(until) + 3600}.{signature}",  # made to last an hour more
             "other key": rules.admission_token(b"other key", 7, 42, AT + timedelta(minutes=5)),
             "longer": token + "0",
             "other event": admission(event_id=8),
             "lapsed": admission(until=AT),
             "lapsed long ago": admission(until=AT - timedelta(days=1))}[case]
    with pytest.raises(AdmissionRefused, match=message) as refused:
        rules.read_admission(KEY, token, 7, AT)
    assert refused.value.http_status == 403 and refused.value.code != AdmissionRequired.code


@pytest.mark.parametrize("token", ["garbage", "7.42.1780000000", "7.42.1780000000.sig.extra", "7.x.1.sig",
                                   "7.42.soon.sig", "7.42.1780000000." + "é" * 32, "7.42.1780000000.\x00"])
def test_a_malformed_admission_is_refused_as_not_given_out(token):
    with pytest.raises(AdmissionRefused, match=FORGED_MESSAGE):
        rules.read_admission(KEY, token, 7, AT)


# --- how many a tick admits ------------------------------------------------------

def test_admissions_stay_within_the_multiple_of_what_can_be_bought():
    assert rules.allowance(buyable=3, outstanding=0, stock_multiple=2, admissions_per_minute=6000) == 6
    assert rules.allowance(buyable=3, outstanding=4, stock_multiple=2, admissions_per_minute=6000) == 2
    assert rules.allowance(buyable=3, outstanding=6, stock_multiple=2, admissions_per_minute=6000) == 0
    assert rules.allowance(buyable=0, outstanding=0, stock_multiple=20, admissions_per_minute=6000) == 0


def test_admissions_stay_within_the_ceilings_share_of_a_second():
    assert rules.allowance(buyable=1000, outstanding=0, stock_multiple=1, admissions_per_minute=600) == 10
    assert rules.allowance(buyable=1000, outstanding=995, stock_multiple=1, admissions_per_minute=600) == 5
    assert [rules.per_second(n) for n in (1, 60, 61, 600, 601, 100_000)] == [1, 1, 2, 10, 11, 1667]


def test_the_allowance_is_never_negative():
    # More admissions open than the stock now allows (tickets went meanwhile): nobody more, no debt.
    assert rules.allowance(buyable=1, outstanding=50, stock_multiple=2, admissions_per_minute=600) == 0
    assert rules.allowance(buyable=0, outstanding=3, stock_multiple=1, admissions_per_minute=1) == 0


def test_what_can_be_bought_counts_lapsing_holds_the_waiting_list_is_not_owed():
    assert rules.buyable(available=5, lapsing_soon=0, waiting=0) == 5
    assert rules.buyable(available=5, lapsing_soon=3, waiting=0) == 8
    assert rules.buyable(available=5, lapsing_soon=3, waiting=2) == 6
    assert rules.buyable(available=5, lapsing_soon=3, waiting=9) == 5  # the line takes what comes back, no more
    assert rules.buyable(available=0, lapsing_soon=0, waiting=4) == 0


# --- what a place is told ----------------------------------------------------------

def test_a_place_is_out_of_reach_when_those_ahead_alone_take_everything():
    assert rules.out_of_reach(ahead=3, left=3, may_come_back=0)
    assert rules.out_of_reach(ahead=4, left=2, may_come_back=2)
    assert not rules.out_of_reach(ahead=3, left=2, may_come_back=2)
    assert not rules.out_of_reach(ahead=0, left=0, may_come_back=0)  # the head of the line may still try


def test_the_estimated_wait_follows_the_last_minutes_pace_else_the_ceiling():
    assert rules.estimated_wait(0, 0, 600) == timedelta(0)
    assert rules.estimated_wait(30, 60, 600) == timedelta(seconds=30)
    assert rules.estimated_wait(100, 0, 600) == timedelta(seconds=10)  # nobody admitted yet
    assert rules.estimated_wait(1, 7, 600) == timedelta(seconds=9)  # rounded up, never promised early


# --- when a room stands in front of reserving ------------------------------------------

def room(**fields) -> WaitingRoom:
    return WaitingRoom(**{"enabled": True, "opens_minutes_before": 30, "closed_at": None, **fields})


def ticket_types(*starts) -> list[TicketType]:
    return [TicketType(name=f"T{i}", sales_start=start) for i, start in enumerate(starts)]


def test_the_room_draws_at_the_earliest_sales_start_and_opens_before_it():
    types = ticket_types(AT + timedelta(hours=2), None, AT + timedelta(hours=1))
    when = rules.schedule(room(opens_minutes_before=45), types)
    assert (when.on_sale, when.opens_at) == (AT + timedelta(hours=1), AT + timedelta(minutes=15))
    assert not when.drawn_at(when.on_sale - timedelta(microseconds=1)) and when.drawn_at(when.on_sale)


def test_no_schedule_without_an_enabled_room_or_a_sales_start():
    assert rules.schedule(None, ticket_types(AT)) is None
    assert rules.schedule(room(enabled=False), ticket_types(AT)) is None
    assert rules.schedule(room(), ticket_types(None, None)) is None
    assert rules.schedule(room(), []) is None


def test_the_room_guards_from_its_opening_until_it_closes():
    types = ticket_types(AT + timedelta(minutes=30))
    assert not rules.guarding(room(), types, AT - timedelta(microseconds=1))
    assert rules.guarding(room(), types, AT)
    assert rules.guarding(room(), types, AT + timedelta(days=1))  # past the on-sale, until it closes
    assert not rules.guarding(room(closed_at=AT + timedelta(hours=1)), types, AT + timedelta(hours=2))
    assert not rules.guarding(room(enabled=False), types, AT)
    assert not rules.guarding(None, types, AT)
