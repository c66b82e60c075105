"""Forms: they parse and check one field at a time; rules across rows live in the domain modules."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from ...domain import rules, tickets
from ...domain.errors import InvalidRequest
from ...domain.formatting import UNSHOWABLE, from_minor_units, known_timezone, minor_units, shown_in
from ...domain.models import Event, OrderStatus, WaitingRoom
from ...readmodels import localized
from ...services.catalog import EVENT_RANGES
from ..i18n import STATUS_LABELS, said

LOCAL = "%Y-%m-%dT%H:%M"
AT_MOST = _l("At most %(max)d characters.")
MAX_PAGE = 100_000


def to_utc(local: datetime | None, tz: str) -> datetime | None:
    """A wall-clock time typed in the event's time zone, as an aware UTC instant."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) if local else None


# Dates the orders filter takes: a day's start and the next day's start must exist in every zone.
FILTER_DATES = (date(2, 1, 1), date(9998, 12, 31))


def _filter_date(form, field):
    if field.data and not FILTER_DATES[0] <= field.data <= FILTER_DATES[1]:
        raise ValidationError(_("Choose a date between %(first)s and %(last)s.", first=FILTER_DATES[0].isoformat(),
                                last=FILTER_DATES[1].isoformat()))


def _instant(local: datetime | None, tz: str, field: str) -> datetime | None:
    """``to_utc``, refusing a time that has no UTC instant (year 1 east of Greenwich, 9999-12-31
    west of it); whether it can be shown is the service's rule."""
    try:
        return to_utc(local, tz)
    except OverflowError:
        raise InvalidRequest(UNSHOWABLE, field=field) from None


def _valid_email(form, field):
    try:
        field.data = rules.email_address(field.data)
    except InvalidRequest as error:
        raise ValidationError(said(error)) from None


class FiniteDecimalField(DecimalField):
    """A number people can type: "NaN", "sNaN" and "Infinity" parse as Decimals but are no price
    (and a signalling NaN makes every comparison raise)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


def to_local(instant: datetime | None, tz: str) -> datetime | None:
    """The wall-clock time in ``tz``; one saved before dates were checked that the zone cannot
    show is given as UTC's (still far off: a sales start is not silently opened)."""
    if not instant:
        return None
    return instant.astimezone(ZoneInfo(tz) if shown_in(instant, tz) else UTC).replace(tzinfo=None)


def _later_than(other: str, message: str):
    def check(form, field):
        start = form[other].data
        if field.data and start and field.data <= start:
            raise ValidationError(message)
    return check


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), _valid_email])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class SignupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200, message=AT_MOST)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), _valid_email])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _known_timezone(form, field):
    if not known_timezone(field.data or ""):
        raise ValidationError(_("Choose a time zone such as Europe/Berlin or America/New_York."))


def _known_currency(form, field):
    # fullmatch: "EUR\n" is no code (a pattern's $ would let the newline through).
    if not re.fullmatch(r"[A-Za-z]{3}", field.data or "") or not localized.known_currency(field.data):
        raise ValidationError(_("Use an ISO 4217 currency code such as EUR, USD or JPY."))


def _known_locale(form, field):
    if not localized.known_locale(field.data or ""):
        raise ValidationError(_("Use a locale such as en, en_GB, de_DE or ja_JP."))


def _sent_unless_absent(message: str):
    """The page always sends this field: blank is refused with ``message``. A client that does not
    send it at all (one older than the field) gets its default, as for the other settings."""
    def check(form, field):
        if not field.raw_data:
            raise StopValidation()  # absent: the default stands
        if not field.raw_data[0].strip():
            field.errors[:] = []  # not also "Not a valid integer value."
            raise StopValidation(message)
    return check


def _event_setting(label: str, name: str, blank: str) -> IntegerField:
    """An event's number setting: the model's default, the catalog's range."""
    least, most, message = EVENT_RANGES[name]
    return IntegerField(label, default=Event.__table__.c[name].default.arg, validators=[
        _sent_unless_absent(blank), NumberRange(min=least, max=most, message=_l(message))])


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200, message=AT_MOST)])
    slug = StringField(_l("Web address (slug)"), validators=[
        DataRequired(), Length(max=80),
        # \Z, not $: $ also matches before a final newline, and "my-event\n" is no web address.
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z", message=_l("Use lower-case letters, digits and single dashes."))])
    timezone = StringField(_l("Time zone"), default="UTC", validators=[DataRequired(), _known_timezone])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200, message=AT_MOST)])
    starts_at = DateTimeLocalField(_l("Starts (local time)"), format=LOCAL, validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Ends (local time)"), format=LOCAL, validators=[
        Optional(), _later_than("starts_at", _l("The event must end after it starts."))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    hold_minutes = IntegerField(_l("Hold length (minutes)"), default=15, validators=[
        InputRequired(), NumberRange(min=1, max=1440, message=_l("A hold lasts between 1 and 1440 minutes."))])
    pending_payment_hours = IntegerField(
        _l("A submitted bank debit holds tickets for (hours)"), default=72,
        validators=[InputRequired(), NumberRange(min=1, max=720, message=_l("Between 1 and 720 hours (30 days)."))])
    # Against hoarding. Blank or 0: no cap (one address may be a whole office or a phone network).
    max_holds_per_client = IntegerField(_l("Live reservations per connection (blank or 0: no limit)"), default=4,
                                        validators=[Optional(), NumberRange(
                                            min=0, max=10_000, message=_l("Between 0 (no limit) and 10000."))])
    release_cooldown_seconds = IntegerField(_l("After releasing, a buyer waits before reserving again (seconds; "
                                               "blank: no wait)"), default=60, validators=[Optional(), NumberRange(
                                                min=0, max=86_400, message=_l("Between 0 (no wait) and 86400 "
                                                                              "seconds."))])
    # The waiting list and renewable holds (issue 15).
    offer_minutes = _event_setting(_l("An offer to the waiting list holds its tickets for (minutes)"), "offer_minutes",
                                   _l("Enter how many minutes an offer lasts."))
    waitlist_partial_offers = BooleanField(_l("Offer the head of the waiting list fewer tickets than asked for "
                                              "when that is all there is"))
    renewal_minutes = _event_setting(_l("Each renewal of a hold adds (minutes)"), "renewal_minutes",
                                     _l("Enter how many minutes a renewal adds."))
    max_renewals = _event_setting(_l("Renewals allowed per hold (0: none)"), "max_renewals",
                                  _l("Enter how many renewals a hold may have (0 for none)."))
    currency = StringField(_l("Currency of its prices"), default="EUR", validators=[DataRequired(), _known_currency])
    locale = StringField(_l("Write amounts as in (locale)"), default="en", validators=[DataRequired(), _known_locale])
    published = BooleanField(_l("Published (visible in the shop)"))

    def values(self) -> dict:
        """Field values for the domain, times in UTC."""
        tz = self.timezone.data
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        data["description"] = data["description"] or ""
        data["venue"] = data["venue"] or ""
        data["currency"] = data["currency"].upper()
        data["locale"] = localized.known_locale(data["locale"])
        data["max_holds_per_client"] = data["max_holds_per_client"] or 0  # blank: no limit
        data["release_cooldown_seconds"] = data["release_cooldown_seconds"] or 0  # blank: no wait
        data["starts_at"], data["ends_at"] = _instant(data["starts_at"], tz, "starts_at"), _instant(
            data["ends_at"], tz, "ends_at")
        return data

    def show(self, event) -> None:
        """Fill the form from an event, times in its own zone."""
        self.process(obj=event)
        self.starts_at.data = to_local(event.starts_at, event.timezone)
        self.ends_at.data = to_local(event.ends_at, event.timezone)


class TicketTypeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120, message=AT_MOST)])
    price = FiniteDecimalField(_l("Price"), places=None, validators=[
        InputRequired(message=_l("Enter a price (0 for free tickets).")),
        NumberRange(min=0, max=1_000_000, message=_l("The price cannot be negative."))])
    capacity = IntegerField(_l("Capacity"), validators=[
        InputRequired(), NumberRange(min=0, max=1_000_000, message=_l("Capacity is a number from 0."))])
    per_order_limit = IntegerField(_l("Most tickets per order"), default=10, validators=[
        InputRequired(), NumberRange(min=1, max=1000, message=_l("Allow at least 1 ticket per order."))])
    sales_start = DateTimeLocalField(_l("Sales start (event's local time)"), format=LOCAL, validators=[Optional()])
    sales_end = DateTimeLocalField(_l("Sales end (event's local time)"), format=LOCAL, validators=[
        Optional(), _later_than("sales_start", _l("The sales window must end after it starts."))])

    def values(self, event) -> dict:
        """Field values for the domain: the price in the event currency's minor unit, times in UTC."""
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        data["price"] = minor_units(data["price"], event.currency)
        tz = event.timezone
        data["sales_start"] = _instant(data["sales_start"], tz, "sales_start")
        data["sales_end"] = _instant(data["sales_end"], tz, "sales_end")
        return data

    def show(self, ticket_type, tz: str) -> None:
        self.process(obj=ticket_type)
        self.price.data = from_minor_units(ticket_type.price, ticket_type.currency)
        self.sales_start.data = to_local(ticket_type.sales_start, tz)
        self.sales_end.data = to_local(ticket_type.sales_end, tz)


def _any_when_absent(form, field):
    """No value, or "", means "any"; anything else must be one of the choices. (Optional() would
    also wave " " past the choices check, into OrderStatus(" ").)"""
    if not field.raw_data or field.raw_data[0] == "":
        field.errors[:] = []
        raise StopValidation()


def _ticket_code(form, field):
    if field.data and tickets.parse(field.data) is None:
        raise ValidationError(_("That is not a ticket code: one reads ES-<order>-<seat>-<16 letters and digits>."))


class OrderFilterForm(FlaskForm):
    """Query-string filters of the orders list (a GET form: nothing to protect)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("Any status"))] + [
        SelectChoice(s.value, STATUS_LABELS[s]) for s in OrderStatus], validators=[_any_when_absent])
    ticket_type = SelectField(_l("Ticket type"), coerce=str, validators=[_any_when_absent])
    email = StringField(_l("Email contains"), validators=[Optional(), Length(max=254)])
    created_from = DateField(_l("Ordered from"), validators=[Optional(), _filter_date])
    created_until = DateField(_l("Ordered until (inclusive)"), validators=[Optional(), _filter_date])
    ticket = StringField(_l("Ticket code"), validators=[Optional(), Length(max=60), _ticket_code])
    page = IntegerField(_l("Page"), default=1, validators=[
        Optional(), NumberRange(min=1, max=MAX_PAGE, message=_l("A page number from %(min)s to %(max)s."))])

    FILTERS = ("status", "ticket_type", "email", "created_from", "created_until", "ticket")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.form_errors.extend(self.page.errors)  # the page is no field on the page: say it above the form
        return valid

    def query(self) -> dict[str, str]:
        """The filters as typed, for the pages' links: only the form's own fields (other query
        arguments, such as ``event_id`` or ``endpoint``, would collide with url_for's)."""
        return {name: self[name].raw_data[0] for name in self.FILTERS if self[name].raw_data and self[name].raw_data[0]}


def _room_setting(label: str, name: str, blank: str) -> IntegerField:
    """A waiting room's number setting with the model's default; its range is the service's rule."""
    return IntegerField(label, default=WaitingRoom.__table__.c[name].default.arg,
                        validators=[InputRequired(message=blank)])


class WaitingRoomForm(FlaskForm):
    """A waiting room's settings (``services.waiting_room.configure`` checks each range)."""

    enabled = BooleanField(_l("Sell the on-sale through a waiting room"))
    opens_minutes_before = _room_setting(_l("The room opens before the on-sale (minutes)"), "opens_minutes_before",
                                         _l("Enter how many minutes before the on-sale the room opens."))
    admission_minutes = _room_setting(_l("An admission lasts (minutes)"), "admission_minutes",
                                      _l("Enter how many minutes an admitted buyer has to reserve."))
    admissions_per_minute = _room_setting(_l("Admissions per minute, at most"), "admissions_per_minute",
                                          _l("Enter how many buyers may be admitted per minute."))
    stock_multiple = _room_setting(_l("Admitted buyers who have not reserved yet: at most this many times the "
                                      "tickets that can still be bought"), "stock_multiple",
                                   _l("Enter how many times the tickets left may be admitted at once."))

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class CheckInForm(FlaskForm):
    """A scan at the door; the service checks the lengths (one rule for page and API)."""

    device = StringField(_l("This device"), description=_l("e.g. Door 1; remembered on this phone"))
    code = StringField(_l("Ticket code"), validators=[InputRequired(message=_l("Scan or type a ticket code."))])
