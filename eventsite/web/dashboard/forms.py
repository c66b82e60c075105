"""Forms: they parse and check one field at a time; rules across rows live in the domain modules."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

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

LOCAL = "%Y-%m-%dT%H:%M"
MAX_PAGE = 100_000


def to_utc(local: datetime | None, tz: str) -> datetime | None:
    """A wall-clock time typed in the event's time zone, as an aware UTC instant."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) if local else None


# Dates the orders filter takes: a day's start and the next day's start must exist in every zone.
FILTER_DATES = (date(2, 1, 1), date(9998, 12, 31))


def _filter_date(form, field):
    if field.data and not FILTER_DATES[0] <= field.data <= FILTER_DATES[1]:
        raise ValidationError(f"Choose a date between {FILTER_DATES[0].isoformat()} and {FILTER_DATES[1].isoformat()}.")


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
        raise ValidationError(error.message) from None


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
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), _valid_email])
    password = PasswordField("Password", validators=[DataRequired()])


class SignupForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=200, message="At most %(max)d characters.")])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), _valid_email])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _known_timezone(form, field):
    if not known_timezone(field.data or ""):
        raise ValidationError("Choose a time zone such as Europe/Berlin or America/New_York.")


def _known_currency(form, field):
    # fullmatch: "EUR\n" is no code (a pattern's $ would let the newline through).
    if not re.fullmatch(r"[A-Za-z]{3}", field.data or "") or not localized.known_currency(field.data):
        raise ValidationError("Use an ISO 4217 currency code such as EUR, USD or JPY.")


def _known_locale(form, field):
    if not localized.known_locale(field.data or ""):
        raise ValidationError("Use a locale such as en, en_GB, de_DE or ja_JP.")


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
        _sent_unless_absent(blank), NumberRange(min=least, max=most, message=message)])


class EventForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200, message="At most %(max)d characters.")])
    slug = StringField("Web address (slug)", validators=[
        DataRequired(), Length(max=80),
        # \Z, not $: $ also matches before a final newline, and "my-event\n" is no web address.
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z", message="Use lower-case letters, digits and single dashes.")])
    timezone = StringField("Time zone", default="UTC", validators=[DataRequired(), _known_timezone])
    venue = StringField("Venue", validators=[Optional(), Length(max=200, message="At most %(max)d characters.")])
    starts_at = DateTimeLocalField("Starts (local time)", format=LOCAL, validators=[InputRequired()])
    ends_at = DateTimeLocalField("Ends (local time)", format=LOCAL, validators=[
        Optional(), _later_than("starts_at", "The event must end after it starts.")])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    hold_minutes = IntegerField("Hold length (minutes)", default=15, validators=[
        InputRequired(), NumberRange(min=1, max=1440, message="A hold lasts between 1 and 1440 minutes.")])
    pending_payment_hours = IntegerField("A submitted bank debit holds tickets for (hours)", default=72, validators=[
        InputRequired(), NumberRange(min=1, max=720, message="Between 1 and 720 hours (30 days).")])
    # Against hoarding. Blank or 0: no cap (one address may be a whole office or a phone network).
    max_holds_per_client = IntegerField("Live reservations per connection (blank or 0: no limit)", default=4,
                                        validators=[Optional(), NumberRange(
                                            min=0, max=10_000, message="Between 0 (no limit) and 10000.")])
    release_cooldown_seconds = IntegerField("After releasing, a buyer waits before reserving again (seconds; "
                                            "blank: no wait)", default=60, validators=[Optional(), NumberRange(
                                                min=0, max=86_400, message="Between 0 (no wait) and 86400 seconds.")])
    # The waiting list and renewable holds (issue 15).
    offer_minutes = _event_setting("An offer to the waiting list holds its tickets for (minutes)", "offer_minutes",
                                   "Enter how many minutes an offer lasts.")
    waitlist_partial_offers = BooleanField("Offer the head of the waiting list fewer tickets than asked for "
                                           "when that is all there is")
    renewal_minutes = _event_setting("Each renewal of a hold adds (minutes)", "renewal_minutes",
                                     "Enter how many minutes a renewal adds.")
    max_renewals = _event_setting("Renewals allowed per hold (0: none)", "max_renewals",
                                  "Enter how many renewals a hold may have (0 for none).")
    currency = StringField("Currency of its prices", default="EUR", validators=[DataRequired(), _known_currency])
    locale = StringField("Write amounts as in (locale)", default="en", validators=[DataRequired(), _known_locale])
    published = BooleanField("Published (visible in the shop)")

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
    name = StringField("Name", validators=[DataRequired(), Length(max=120, message="At most %(max)d characters.")])
    price = FiniteDecimalField("Price", places=None, validators=[
        InputRequired(message="Enter a price (0 for free tickets)."),
        NumberRange(min=0, max=1_000_000, message="The price cannot be negative.")])
    capacity = IntegerField("Capacity", validators=[
        InputRequired(), NumberRange(min=0, max=1_000_000, message="Capacity is a number from 0.")])
    per_order_limit = IntegerField("Most tickets per order", default=10, validators=[
        InputRequired(), NumberRange(min=1, max=1000, message="Allow at least 1 ticket per order.")])
    sales_start = DateTimeLocalField("Sales start (event's local time)", format=LOCAL, validators=[Optional()])
    sales_end = DateTimeLocalField("Sales end (event's local time)", format=LOCAL, validators=[
        Optional(), _later_than("sales_start", "The sales window must end after it starts.")])

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
        raise ValidationError("That is not a ticket code: one reads ES-<order>-<seat>-<16 letters and digits>.")


class OrderFilterForm(FlaskForm):
    """Query-string filters of the orders list (a GET form: nothing to protect)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[SelectChoice("", "Any status")] + [
        SelectChoice(s.value, s.value.replace("_", " ")) for s in OrderStatus], validators=[_any_when_absent])
    ticket_type = SelectField("Ticket type", coerce=str, validators=[_any_when_absent])
    email = StringField("Email contains", validators=[Optional(), Length(max=254)])
    created_from = DateField("Ordered from", validators=[Optional(), _filter_date])
    created_until = DateField("Ordered until (inclusive)", validators=[Optional(), _filter_date])
    ticket = StringField("Ticket code", validators=[Optional(), Length(max=60), _ticket_code])
    page = IntegerField("Page", default=1, validators=[
        Optional(), NumberRange(min=1, max=MAX_PAGE, message=f"A page number from 1 to {MAX_PAGE}.")])

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

    enabled = BooleanField("Sell the on-sale through a waiting room")
    opens_minutes_before = _room_setting("The room opens before the on-sale (minutes)", "opens_minutes_before",
                                         "Enter how many minutes before the on-sale the room opens.")
    admission_minutes = _room_setting("An admission lasts (minutes)", "admission_minutes",
                                      "Enter how many minutes an admitted buyer has to reserve.")
    admissions_per_minute = _room_setting("Admissions per minute, at most", "admissions_per_minute",
                                          "Enter how many buyers may be admitted per minute.")
    stock_multiple = _room_setting("Admitted buyers who have not reserved yet: at most this many times the "
                                   "tickets that can still be bought", "stock_multiple",
                                   "Enter how many times the tickets left may be admitted at once.")

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class CheckInForm(FlaskForm):
    """A scan at the door; the service checks the lengths (one rule for page and API)."""

    device = StringField("This device", description="e.g. Door 1; remembered on this phone")
    code = StringField("Ticket code", validators=[InputRequired(message="Scan or type a ticket code.")])
