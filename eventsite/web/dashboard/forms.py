"""Forms: they parse and check one field at a time; rules across rows live in the domain modules."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ...domain.formatting import from_minor_units, minor_units
from ...domain.models import OrderStatus
from ...readmodels import localized

LOCAL = "%Y-%m-%dT%H:%M"


def to_utc(local: datetime | None, tz: str) -> datetime | None:
    """A wall-clock time typed in the event's time zone, as an aware UTC instant."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) if local else None


def to_local(instant: datetime | None, tz: str) -> datetime | None:
    return instant.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if instant else None


def _later_than(other: str, message: str):
    def check(form, field):
        start = form[other].data
        if field.data and start and field.data <= start:
            raise ValidationError(message)
    return check


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()])


class SignupForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _known_timezone(form, field):
    try:
        ZoneInfo(field.data)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Choose a time zone such as Europe/Berlin or America/New_York.") from None


def _known_currency(form, field):
    if not localized.known_currency(field.data or ""):
        raise ValidationError("Use an ISO 4217 currency code such as EUR, USD or JPY.")


def _known_locale(form, field):
    if not localized.known_locale(field.data or ""):
        raise ValidationError("Use a locale such as en, en_GB, de_DE or ja_JP.")


class EventForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    slug = StringField("Web address (slug)", validators=[
        DataRequired(), Length(max=80),
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lower-case letters, digits and single dashes.")])
    timezone = StringField("Time zone", default="UTC", validators=[DataRequired(), _known_timezone])
    venue = StringField("Venue", validators=[Optional(), Length(max=200)])
    starts_at = DateTimeLocalField("Starts (local time)", format=LOCAL, validators=[InputRequired()])
    ends_at = DateTimeLocalField("Ends (local time)", format=LOCAL, validators=[
        Optional(), _later_than("starts_at", "The event must end after it starts.")])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    hold_minutes = IntegerField("Hold length (minutes)", default=15, validators=[
        InputRequired(), NumberRange(min=1, max=1440, message="A hold lasts between 1 and 1440 minutes.")])
    pending_payment_hours = IntegerField("A submitted bank debit holds tickets for (hours)", default=72, validators=[
        InputRequired(), NumberRange(min=1, max=720, message="Between 1 and 720 hours (30 days).")])
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
        data["starts_at"], data["ends_at"] = to_utc(data["starts_at"], tz), to_utc(data["ends_at"], tz)
        return data

    def show(self, event) -> None:
        """Fill the form from an event, times in its own zone."""
        self.process(obj=event)
        self.starts_at.data = to_local(event.starts_at, event.timezone)
        self.ends_at.data = to_local(event.ends_at, event.timezone)


class TicketTypeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    price = DecimalField("Price", places=None, validators=[
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
        data["sales_start"], data["sales_end"] = to_utc(data["sales_start"], tz), to_utc(data["sales_end"], tz)
        return data

    def show(self, ticket_type, tz: str) -> None:
        self.process(obj=ticket_type)
        self.price.data = from_minor_units(ticket_type.price, ticket_type.currency)
        self.sales_start.data = to_local(ticket_type.sales_start, tz)
        self.sales_end.data = to_local(ticket_type.sales_end, tz)


class OrderFilterForm(FlaskForm):
    """Query-string filters of the orders list (a GET form: nothing to protect)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[SelectChoice("", "Any status")] + [
        SelectChoice(s.value, s.value.replace("_", " ")) for s in OrderStatus], validators=[Optional()])
    ticket_type = SelectField("Ticket type", coerce=str, validators=[Optional()])
    email = StringField("Email contains", validators=[Optional(), Length(max=254)])
    created_from = DateField("Ordered from", validators=[Optional()])
    created_until = DateField("Ordered until (inclusive)", validators=[Optional()])


class CheckInForm(FlaskForm):
    """A scan at the door; the service checks the lengths (one rule for page and API)."""

    device = StringField("This device", description="e.g. Door 1; remembered on this phone")
    code = StringField("Ticket code", validators=[InputRequired(message="Scan or type a ticket code.")])
