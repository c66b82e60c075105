"""Tables only. Status changes live in state_machine.py, counting in capacity.py."""
from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .clock import now

# Stable constraint names, so Alembic can drop them again on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike.

    SQLite has no time zones; it stores naive UTC text, which still sorts and
    compares correctly, and we hand back aware UTC values either way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class OrderStatus(enum.StrEnum):
    RESERVED = "reserved"
    PAYMENT_PROCESSING = "payment_processing"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# Statuses in which an order may still hold tickets (if its hold is live).
HOLDING_STATUSES = (OrderStatus.RESERVED, OrderStatus.PAYMENT_PROCESSING)
_HOLDING_SQL = "status IN ('reserved', 'payment_processing')"


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Organizer(Base):
    __tablename__ = "organizers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # sha256 of the organizer's API bearer token; the token itself is shown once.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Part of every dashboard session's id; bumped at logout and password change, which ends
    # every session (and every copy of its cookie) signed in before.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    events: Mapped[list[Event]] = relationship(back_populates="organizer", order_by="Event.starts_at")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("hold_minutes BETWEEN 1 AND 1440", name="hold_minutes_range"),
        CheckConstraint("pending_payment_hours BETWEEN 1 AND 720", name="pending_payment_hours_range"),
        CheckConstraint("max_holds_per_client >= 0", name="max_holds_per_client_not_negative"),
        CheckConstraint("release_cooldown_seconds BETWEEN 0 AND 86400", name="release_cooldown_seconds_range"),
        CheckConstraint("offer_minutes BETWEEN 1 AND 1440", name="offer_minutes_range"),
        CheckConstraint("renewal_minutes BETWEEN 1 AND 60", name="renewal_minutes_range"),
        CheckConstraint("max_renewals BETWEEN 0 AND 100", name="max_renewals_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Every price of the event is in this ISO 4217 currency, in its minor unit (one order, one currency).
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    # How amounts and numbers are written for its buyers (a CLDR locale such as en, de_DE, ja_JP).
    locale: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    venue: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # How long a submitted delayed payment (bank debit) keeps its tickets while its outcome is pending.
    pending_payment_hours: Mapped[int] = mapped_column(Integer, default=72, server_default=text("72"))
    # Against hoarding: live holds one client address may have on the event (0: no cap; a family
    # or an office shares an address, so not 1), and how long a buyer who released a hold waits
    # before reserving again (0: not at all), so releasing cannot be used to re-hold forever.
    max_holds_per_client: Mapped[int] = mapped_column(Integer, default=4, server_default=text("4"))
    release_cooldown_seconds: Mapped[int] = mapped_column(Integer, default=60, server_default=text("60"))
    # The waiting list: how long an offer (a hold placed for the next person in line) lasts, and
    # whether the head of the line may be offered fewer tickets than asked rather than wait for all.
    offer_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default=text("10"))
    waitlist_partial_offers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Renewable holds: each renewal adds renewal_minutes, at most max_renewals times per hold.
    renewal_minutes: Mapped[int] = mapped_column(Integer, default=5, server_default=text("5"))
    max_renewals: Mapped[int] = mapped_column(Integer, default=10, server_default=text("10"))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    organizer: Mapped[Organizer] = relationship(back_populates="events")
    ticket_types: Mapped[list[TicketType]] = relationship(
        back_populates="event", order_by="TicketType.id", cascade="all, delete-orphan"
    )
    waiting_room: Mapped[WaitingRoom | None] = relationship(back_populates="event", cascade="all, delete-orphan")


class TicketType(Base):
    __tablename__ = "ticket_types"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("per_order_limit >= 1", name="per_order_limit_positive"),
        # Last line of defence: confirmed tickets can never exceed capacity.
        CheckConstraint("sold >= 0 AND sold <= capacity", name="sold_within_capacity"),
        CheckConstraint("waitlist IN ('open', 'paused', 'closed')", name="waitlist_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    price: Mapped[int] = mapped_column(Integer)  # minor units of the event's currency
    capacity: Mapped[int] = mapped_column(Integer)
    per_order_limit: Mapped[int] = mapped_column(Integer, default=10)
    sales_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sales_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Confirmed quantity, kept by the state machine in the confirming transaction,
    # so availability never sums the order history.
    sold: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Its waiting list: open (joins and offers), paused (nobody joins, no offers; the line keeps
    # its place and what comes back stays promised to it), closed (nobody joins, nobody waits).
    waitlist: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    event: Mapped[Event] = relationship(back_populates="ticket_types")

    @property
    def currency(self) -> str:
        return self.event.currency

    def on_sale(self, at: datetime) -> bool:
        return (self.sales_start is None or self.sales_start <= at) and (
            self.sales_end is None or at < self.sales_end
        )


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # Covers only orders that may hold tickets, so summing holds costs the
        # number of live holds, not the size of the order history.
        Index(
            "ix_orders_holding_by_event",
            "event_id",
            "expires_at",
            postgresql_where=text(_HOLDING_SQL),
            sqlite_where=text(_HOLDING_SQL),
        ),
        Index("ix_orders_event_created", "event_id", "created_at"),
        # The sweep takes lapsed holds of every event, earliest expiry first, in
        # batches: read in index order, each batch costs its own rows instead of
        # sorting every lapsed hold again (49 ms per batch at 100,000 of them).
        Index(
            "ix_orders_holding_by_expiry",
            "expires_at",
            postgresql_where=text(_HOLDING_SQL),
            sqlite_where=text(_HOLDING_SQL),
        ),
        # Buyers' recent releases of an event (the release cool-down), without reading its history.
        Index("ix_orders_cancelled_by_event", "event_id", "updated_at",
              postgresql_where=text("status = 'cancelled'"), sqlite_where=text("status = 'cancelled'")),
        Index("ix_orders_room_place", "event_id", "room_place", unique=True,
              postgresql_where=text("room_place IS NOT NULL"), sqlite_where=text("room_place IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    email: Mapped[str] = mapped_column(String(254))
    # Where the hold was placed from (an IPv6 address fits in 45), for the per-client cap; None
    # for orders placed before it was kept or not over HTTP.
    client_address: Mapped[str | None] = mapped_column(String(45))
    # The buyer's language when they placed it ("en", "de"): its emails and tickets speak it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The event's currency when the order was placed: what it was charged (and is refunded) in.
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="order_status",
            values_callable=lambda statuses: [s.value for s in statuses],
        )
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An async payment (bank debit, ...) was submitted; the hold stays until its outcome or pending_until.
    payment_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    pending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    refund_id: Mapped[str | None] = mapped_column(String(255))
    payment_error: Mapped[str | None] = mapped_column(Text)
    # How often the buyer renewed the hold (each adds the event's renewal length, up to its maximum).
    renewals: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The waiting-list entry this order was offered to (an offer is a hold like any other).
    waitlist_entry_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entries.id"), unique=True)
    # The waiting-room place whose admission placed this hold: one hold per admission.
    room_place: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    event: Mapped[Event] = relationship()
    waitlist_entry: Mapped[WaitlistEntry | None] = relationship(back_populates="offer")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.ticket_type_id", cascade="all, delete-orphan"
    )
    history: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )
    anomalies: Mapped[list[PaymentAnomaly]] = relationship(order_by="PaymentAnomaly.id", viewonly=True)

    @property
    def total(self) -> int:
        return sum(item.quantity * item.unit_price for item in self.items)

    @property
    def quantity(self) -> int:
        return sum(item.quantity for item in self.items)


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"  # in line; counts as demand, and tickets that come back are promised to it
    OFFERED = "offered"  # got its offer (an order); what became of it is the order's status
    LEFT = "left"  # the buyer left the line
    CLOSED = "closed"  # the organizer closed the line before it was served
    # Asked for from a waiting room by a place that would not get in: joins the line (as WAITING, in
    # id order) when the room closes sold out; until then it is neither demand nor promised anything.
    DEFERRED = "deferred"


class WaitlistEntry(Base):
    """One buyer waiting for a quantity of one ticket type, served strictly in id order."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # The line of a ticket type in order, and what it waits for, reading only who is waiting.
        Index("ix_waitlist_entries_waiting", "ticket_type_id", "id",
              postgresql_where=text("status = 'waiting'"), sqlite_where=text("status = 'waiting'")),
        # One place in line per email and ticket type.
        Index("ix_waitlist_entries_one_per_email", "ticket_type_id", "email", unique=True,
              postgresql_where=text("status = 'waiting'"), sqlite_where=text("status = 'waiting'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"))
    email: Mapped[str] = mapped_column(String(254))
    client_address: Mapped[str | None] = mapped_column(String(45))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")  # as on Order
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[WaitlistStatus] = mapped_column(
        Enum(WaitlistStatus, native_enum=False, create_constraint=True, length=10, name="waitlist_status",
             values_callable=lambda statuses: [s.value for s in statuses]))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    event: Mapped[Event] = relationship()
    ticket_type: Mapped[TicketType] = relationship()
    offer: Mapped[Order | None] = relationship(back_populates="waitlist_entry")


class WaitingRoom(Base):
    """An event's waiting room for its on-sale (the earliest sales start): from ``opens_minutes_before``
    it until it closes, buyers reserve only with an admission. The queue itself lives in Redis
    (``infra.room_store``); this row is its settings, its draw seed and, once closed, its report."""

    __tablename__ = "waiting_rooms"
    __table_args__ = (
        CheckConstraint("opens_minutes_before BETWEEN 1 AND 1440", name="opens_minutes_before_range"),
        CheckConstraint("admission_minutes BETWEEN 1 AND 60", name="admission_minutes_range"),
        CheckConstraint("admissions_per_minute BETWEEN 1 AND 100000", name="admissions_per_minute_range"),
        CheckConstraint("stock_multiple BETWEEN 1 AND 20", name="stock_multiple_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    opens_minutes_before: Mapped[int] = mapped_column(Integer, default=30)
    admission_minutes: Mapped[int] = mapped_column(Integer, default=5)  # how long an admission may place a hold
    admissions_per_minute: Mapped[int] = mapped_column(Integer, default=600)  # ceiling, spread over each second
    # Admitted-but-not-reserved stay within this many times what can still be bought.
    stock_multiple: Mapped[int] = mapped_column(Integer, default=2)
    seed: Mapped[str] = mapped_column(String(64))  # secret until the on-sale, published after it
    seed_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the seed, shown from the start
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(20))  # sold_out, sales_ended
    report: Mapped[str | None] = mapped_column(Text)  # JSON: the waits, kept when the room closes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    event: Mapped[Event] = relationship(back_populates="waiting_room")


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)  # price at reservation time, minor units

    order: Mapped[Order] = relationship(back_populates="items")
    ticket_type: Mapped[TicketType] = relationship()


class OrderEvent(Base):
    """Append-only audit row, written by the state machine for every status change."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    order: Mapped[Order] = relationship(back_populates="history")


class ObligationKind(enum.StrEnum):
    EXPIRE_SESSION = "expire_session"  # close the order's checkout session: no payment may start any more
    REFUND_PAYMENT = "refund_payment"  # a late payment that found no tickets goes back
    REFUND_ANOMALY = "refund_anomaly"  # money taken by a payment that did not match its order goes back
    # Messages to buyers: each one an obligation, written with the change that causes it.
    EMAIL_HOLD_PLACED = "email_hold_placed"  # what is held, until when, the link to the hold
    EMAIL_PAID = "email_paid"  # the tickets (codes, QR), event details, calendar file and printable tickets
    EMAIL_LATE_PAID = "email_late_paid"  # paid after the hold lapsed and tickets were still there: the tickets
    EMAIL_REFUNDED = "email_refunded"  # how much went back, and why
    EMAIL_PAYMENT_FAILED = "email_payment_failed"  # a delayed payment (bank debit) failed: nothing was charged
    EMAIL_FIND_TICKETS = "email_find_tickets"  # "find my tickets": links to every order of one address
    # The waiting list: the place and its link; an offer (a hold for the next in line); the line closed.
    EMAIL_WAITLIST_JOINED = "email_waitlist_joined"
    EMAIL_OFFER = "email_offer"
    EMAIL_WAITLIST_CLOSED = "email_waitlist_closed"
    # Organizer sign-up, answered the same on the page whether or not the address has an account:
    EMAIL_SIGNUP_WELCOME = "email_signup_welcome"  # the new account is ready: log in
    EMAIL_SIGNUP_EXISTING = "email_signup_existing"  # someone tried to sign up with your address


class Obligation(Base):
    """Work promised for later, written in the same transaction as the change that
    promises it and done by jobs until ``done_at`` is set. Redis only makes it prompt:
    the sweep works off whatever is due, so a lost job loses nothing."""

    __tablename__ = "obligations"
    __table_args__ = (
        Index("ix_obligations_pending_by_due", "due_at",
              postgresql_where=text("done_at IS NULL"), sqlite_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What makes a promise the same promise ("expire_session:order:7", "refund_anomaly:pi_..."): made once.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[ObligationKind] = mapped_column(
        Enum(ObligationKind, native_enum=False, create_constraint=True, length=40, name="obligation_kind",
             values_callable=lambda kinds: [k.value for k in kinds]))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    anomaly_id: Mapped[int | None] = mapped_column(ForeignKey("payment_anomalies.id"))
    # The waiting-list entry a message is about (joined, line closed).
    waitlist_entry_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entries.id"), index=True)
    # Whom a message goes to when no order names it ("find my tickets").
    recipient: Mapped[str | None] = mapped_column(String(254))
    # The language of such a message: the one the request that promised it was made in.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A worker that took it holds it until then; past it (the worker died) anyone may retry.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    order: Mapped[Order | None] = relationship()
    anomaly: Mapped[PaymentAnomaly | None] = relationship()
    waitlist_entry: Mapped[WaitlistEntry | None] = relationship()


class CheckIn(Base):
    """One seat let in at the door. Undoing it (by the organizer) keeps the row, stamped
    with who undid it and when, so the door's history stays whole; at most one check-in
    per seat is in force (the partial unique index), whatever two doors do at once."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_seat_in_force", "order_id", "seat", unique=True,
              postgresql_where=text("undone_at IS NULL"), sqlite_where=text("undone_at IS NULL")),
        CheckConstraint("seat >= 1", name="seat_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seat: Mapped[int] = mapped_column(Integer)  # the ticket's number within its order, from 1
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    device: Mapped[str] = mapped_column(String(100), default="")  # which door or phone scanned it
    by: Mapped[str] = mapped_column(String(254))  # who was signed in (organizer email, or api:<email>)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(254))

    order: Mapped[Order] = relationship()
    ticket_type: Mapped[TicketType] = relationship()


class PaymentAnomaly(Base):
    """A signed payment event that did not match the order it named (another session,
    another amount or currency, no payment): it never confirms; its organizer sees it,
    and money it took is refunded (an obligation)."""

    __tablename__ = "payment_anomalies"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))  # foreign_session, amount, currency, no_payment_intent, ...
    detail: Mapped[str] = mapped_column(Text)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    refund_id: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class SweepRun(Base):
    """One run of the expiry sweep, for operators (/healthz: when it last ran)."""

    __tablename__ = "sweep_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expired: Mapped[int] = mapped_column(Integer)


class WebhookEvent(Base):
    """Each payment-provider event id is applied once (the primary key makes duplicates fail)."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
