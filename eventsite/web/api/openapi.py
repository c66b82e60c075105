"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Kept beside the code it describes; tests compare its paths with the app's
routes and fuzz the running app against it with schemathesis.
"""
from __future__ import annotations

from ...domain import waitlist
from ...domain.models import OrderStatus
from ...domain.rules import CONTROL_CHARACTER_CLASS, EMAIL_PATTERN
from ...services import waiting_room
from ...services.checkin import MAX_CODE_LENGTH, MAX_DEVICE_LENGTH, Outcome
from .validation import MAX_ID, MAX_ITEMS, MAX_PAGE

# Mirrors of the rules the code applies, so generated clients and the fuzzer agree with it.
SEGMENT = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": f"^[^/{CONTROL_CHARACTER_CLASS}]+$"}
TEXT = {"type": "string", "maxLength": 200, "pattern": f"^[^{CONTROL_CHARACTER_CLASS}]*$"}
EMAIL = {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN,
         "description": "An @ neither first nor last; no control characters.", "examples": ["buyer@example.com"]}

STR = {"type": "string"}
INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
STR_OR_NULL = {"type": ["string", "null"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(optional: dict | None = None, **properties) -> dict:
    """An object schema: every keyword property is always present, ``optional`` ones may be."""
    return {"type": "object", "required": list(properties), "properties": {**properties, **(optional or {})}}


def json_response(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def error(description: str, headers: dict | None = None) -> dict:
    return json_response(description, ref("Error"), headers)


def header(description: str, required: bool = False, schema: dict = STR) -> dict:
    return {"description": description, "required": required, "schema": schema}


def path_param(name: str, description: str, **extra) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": SEGMENT, **extra}


SLUG = path_param("slug", "The event's public slug.", example="demo-night")
TOKEN = path_param("token", "The reservation's unguessable token (returned when reserving).")
PLACE_TOKEN = path_param("token", "The place's unguessable token (returned when joining, and in the email sent then).")
ROOM_SLUG = path_param("slug", "The event's public slug (an event whose on-sale has a waiting room).",
                       example="big-night")
ROOM_TOKEN = path_param("token", "The place's unguessable token (returned when joining the room).")
RETRY_AFTER = header("Seconds until trying again may succeed.", schema={"type": "string", "pattern": "^[0-9]+$"})

NOT_FOUND = error("No such resource (or not yours).")
ROOM_PAUSED = error("`room_paused`: the room's queue is briefly unreachable, nothing was changed; or `busy` / "
                    "`unavailable` (the database), with Retry-After. Try again shortly.", {"Retry-After": RETRY_AFTER})
INVALID = error("Invalid input; `fields` has one message per bad field.")
UNAUTHORIZED = error("Missing or invalid organizer token.",
                     {"WWW-Authenticate": header("The Bearer scheme.", required=True)})
CONFLICT = error("The reservation is not in a state that allows this (`hold_expired`, `not_reserved`, `conflict`).")
RENEWAL_REFUSED = error("Nothing was changed: `not_renewable` (not in the hold's last minutes, renewed as often as "
                        "the organizer allows, or other buyers are waiting for these tickets: pay now to keep "
                        "them), `hold_expired` or `not_reserved` (payment has started).")

RESERVATION_STATUSES = ["held", "expired", "released", "confirmed", "refunded"]
PAYMENT_STATES = ["none", "awaiting_payment", "pending", "paid", "failed", "refunded"]

LINK = obj(href=STR, method={"type": "string", "enum": ["GET", "POST", "DELETE"]})

FIGURES = dict(
    capacity=COUNT, sold=COUNT, held=COUNT, available=COUNT,
    next_release_at={**TIME_OR_NULL, "description": "Earliest expiry among live holds: when tickets may come back."},
)
LINE = dict(
    waiting_list={"type": "string", "enum": list(waitlist.STATES),
                  "description": "`open`: anyone may join the waiting list while no (or too few) tickets are "
                  "available; `paused`, `closed`: nobody can join now."},
    waiting={**COUNT, "description": "People on the waiting list."},
    promised={**COUNT, "description": "Tickets that came back and go to the waiting list first: not in `available`."},
)
PLACE_STATES = ["waiting", "deferred", "offered", "bought", "offer_lapsed", "left", "closed"]
ROOM_PHASES = [waiting_room.BEFORE_DRAW, waiting_room.DRAWING, waiting_room.QUEUED, waiting_room.ADMITTED,
               waiting_room.USED, waiting_room.LAPSED, waiting_room.LEFT, waiting_room.CLOSED, waiting_room.ENDED,
               waiting_room.PAUSED, waiting_room.LOST]
CLOSED_REASONS = ["sold_out", "sales_ended"]
ADMISSION = {**STR_OR_NULL, "description": "While the event's waiting room is open (`waiting_room."
             "admission_required`): the `admission` your place in it was given. It places one hold, until "
             "`admission_expires_at`. Null or absent: none."}
ROOM_LINKS = {"room": {**ref("Link"), "description": "Take a place in the room (this API)."},
              "room_page": {**ref("Link"), "description": "The shop's room page, for people."}}

SCHEMAS = {
    "Error": obj(error=obj(
        {"retry_after": {"type": "integer", "minimum": 1,
                         "description": "With `all_reserved`: seconds until the earliest hold lapses."},
         "retry_at": TIME,
         "links": {**obj(**ROOM_LINKS), "description": "With `admission_required` and `admission_invalid`: where "
                   "the event's waiting room gives out admissions."}},
        code={**STR, "description": "Machine-readable: not_found, invalid, sold_out, all_reserved, waiting_list, "
              "sales_closed, hold_expired, not_reserved, not_renewable, already_waiting, conflict, unauthorized, "
              "too_many_requests, method_not_allowed, busy, unavailable, admission_required, admission_invalid, "
              "already_in_room, room_paused, ..."},
        message={**STR, "description": "For people."},
        fields={"type": "object", "additionalProperties": STR,
                "description": "Field path (e.g. `items[0].quantity`) to message."},
    )),
    "Link": LINK,
    "TicketType": obj(
        id=INT, name=STR, price={**COUNT, "description": "In the minor unit of its currency (ISO 4217: "
                                  "cents for EUR, yen for JPY, fils for KWD)."},
        currency={**STR, "description": "The event's currency (ISO 4217)."},
        per_order_limit=INT, sales_start=TIME_OR_NULL, sales_end=TIME_OR_NULL, on_sale=BOOL, **FIGURES, **LINE,
    ),
    "Event": obj(
        slug=STR, title=STR, description=STR, venue=STR, timezone=STR, starts_at=TIME, ends_at=TIME_OR_NULL,
        hold_minutes=INT, currency={**STR, "description": "Every price of the event is in it (ISO 4217)."},
        ticket_types={"type": "array", "items": ref("TicketType")},
        links=obj(self=ref("Link"), availability=ref("Link"), reserve=ref("Link"), join_waitlist=ref("Link")),
        waiting_room={"oneOf": [{"type": "null"}, ref("WaitingRoom")],
                      "description": "The waiting room in front of the on-sale, if the organizer set one up."},
    ),
    "WaitingRoom": obj(
        opens_at={**TIME, "description": "When the room starts taking places."},
        on_sale={**TIME, "description": "The on-sale instant: places taken before it are drawn in a random order "
                 "then, later ones queue behind in arrival order."},
        admission_required={**BOOL, "description": "Reserving needs an `admission` from the room now (from its "
                            "opening until it closes)."},
        closed={"type": ["string", "null"], "enum": CLOSED_REASONS + [None],
                "description": "Null while the room is in use; why it closed otherwise."},
        seed_hash={**STR, "description": "SHA-256 (hex) of the draw's seed, shown before the on-sale."},
        links=obj(draw=ref("Link"), **ROOM_LINKS),
    ),
    "EventList": obj(events={"type": "array", "items": ref("Event")}),
    "OrganizerEventList": obj(events={"type": "array", "items": {
        "allOf": [ref("Event"), obj(published=BOOL)]}}),
    "Availability": obj(slug=STR, ticket_types={"type": "array", "items": obj(
        {"held_by_you": COUNT, "held_by_others": COUNT}, id=INT, on_sale=BOOL, **FIGURES, **LINE)}),
    "ReservationRequest": {
        **obj({"admission": ADMISSION}, email=EMAIL, items={
            "type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
            "description": "Each ticket type at most once.",
            "items": {**obj(ticket_type_id={"type": "integer", "minimum": 1, "maximum": MAX_ID, "examples": [1]},
                            quantity={"type": "integer", "minimum": 1, "maximum": MAX_ID,
                                      "description": "At most the ticket type's per_order_limit."}),
                      "additionalProperties": False},
        }),
        "additionalProperties": False,
    },
    "Order": obj(
        status={"type": "string", "enum": [s.value for s in OrderStatus]},
        reservation_status={"type": "string", "enum": RESERVATION_STATUSES,
                            "description": "`held` while the hold counts; a lapsed hold reads `expired` at once."},
        email=STR, created_at=TIME, expires_at=TIME,
        seconds_left={**COUNT, "description": "Seconds until the hold lapses (0 unless held). "
                      "Re-read it on each poll rather than trusting a local timer."},
        items={"type": "array", "items": obj(ticket_type_id=INT, name=STR, quantity=INT, unit_price=COUNT,
                                             subtotal=COUNT)},
        total=COUNT, currency=STR,
        payment=obj(state={"type": "string", "enum": PAYMENT_STATES}, checkout_url=STR_OR_NULL,
                    error=STR_OR_NULL),
    ),
    "Reservation": {"allOf": [ref("Order"), obj(
        token=STR, event=obj(slug=STR, title=STR),
        renewals={**COUNT, "description": "Times the hold was renewed."},
        renewals_left={**COUNT, "description": "Renewals the organizer still allows."},
        renewable={**BOOL, "description": "In the hold's last minutes with renewals left: offer the buyer more "
                   "time (the renewal is still refused while others wait for these tickets)."},
        # checkout and release only while the hold is live, renew only while renewable:
        # what cannot be done is not offered.
        links=obj({"checkout": ref("Link"), "release": ref("Link"), "renew": ref("Link")}, self=ref("Link")),
    )]},
    "WaitlistRequest": {
        **obj(ticket_type_id={"type": "integer", "minimum": 1, "maximum": MAX_ID, "examples": [1]},
              quantity={"type": "integer", "minimum": 1, "maximum": MAX_ID,
                        "description": "At most the ticket type's per_order_limit."},
              email=EMAIL),
        "additionalProperties": False,
    },
    "Place": obj(
        token=STR, event=obj(slug=STR, title=STR), ticket_type_id=INT, ticket_type_name=STR, email=STR,
        quantity={**COUNT, "description": "Tickets asked for."}, created_at=TIME,
        state={"type": "string", "enum": PLACE_STATES,
               "description": "`waiting` in line; `deferred`: asked for from the event's waiting room, you "
               "join the line if the sale sells out (not in line yet); "
               "`offered`: tickets are held for you (see `offer`), pay before "
               "`offer.expires_at`; `bought`; `offer_lapsed`: the offer was not taken (or was released); "
               "`left` the line; `closed`: the organizer closed the line."},
        position={"type": ["integer", "null"], "minimum": 1, "description": "1 at the head of the line; null once "
                  "the place no longer waits."},
        people_waiting={**COUNT, "description": "People waiting for this ticket type, you included."},
        held_by_others={**COUNT, "description": "Tickets of this type held by other buyers now."},
        next_release_at={**TIME_OR_NULL, "description": "The earliest live hold's expiry: when tickets may "
                         "come back to the line."},
        offer={"oneOf": [{"type": "null"}, obj(
            token={**STR, "description": "The offer's reservation token: pay and release it as any reservation."},
            quantity=COUNT, reservation_status={"type": "string", "enum": RESERVATION_STATUSES},
            expires_at=TIME,
            seconds_left={**COUNT, "description": "Seconds left to pay (0 unless the offer is live)."},
            links=obj(reservation=ref("Link"), page=ref("Link")),
        )], "description": "The hold offered to this place, once there is one."},
        links=obj({"leave": ref("Link")}, self=ref("Link"), page=ref("Link")),
    ),
    "RoomJoinRequest": {**obj({"email": {**EMAIL, "type": ["string", "null"],
                                         "description": "Optional (null or absent: none): one place per address."}}),
                        "additionalProperties": False},
    "RoomPlace": obj(
        token={**STR, "description": "The key to this place: read and leave it with it."},
        number={**COUNT, "description": "Place number, in arrival order: the draw orders the numbers taken "
                "before the on-sale."},
        phase={"type": "string", "enum": ROOM_PHASES,
               "description": "`before_draw`: wait for the on-sale; `drawing`: being drawn; `queued`: in line "
               "(`ahead`, `estimated_wait_seconds`); `admitted`: reserve now with `admission` before "
               "`admission_expires_at`; `used`: its admission placed a hold; `lapsed`: the admission was not used "
               "in time; `left`; `closed`: the room closed (`closed_reason`); `ended`: the organizer switched "
               "the room off; `paused`: the room is briefly unavailable, nobody is admitted (poll again); "
               "`lost`: the room no longer knows this place (join again)."},
        event=obj(slug=STR, title=STR),
        ahead={"type": ["integer", "null"], "minimum": 0, "description": "People ahead in line (once queued)."},
        people={**COUNT, "description": "Places taken in the room so far."},
        tickets_left={**COUNT, "description": "Tickets available now."},
        may_come_back={**COUNT, "description": "Tickets held by others that may come back if their holds lapse."},
        out_of_reach={**BOOL, "description": "The people ahead already want more tickets than are left and may "
                      "come back: this place will likely not get one (the waiting list is the way then)."},
        estimated_wait_seconds={"type": ["integer", "null"], "minimum": 0,
                                "description": "At the pace of the last minute, while queued."},
        on_sale=TIME_OR_NULL,
        seed_hash={**STR_OR_NULL, "description": "SHA-256 of the draw's seed."},
        seed={**STR_OR_NULL, "description": "The draw's seed, published from the on-sale instant."},
        closed_reason={"type": ["string", "null"], "enum": CLOSED_REASONS + [None]},
        admission={**STR_OR_NULL, "description": "While `admitted`: send it as `admission` when reserving."},
        admission_expires_at=TIME_OR_NULL,
        # reserve only while admitted, leave only while in the room: what cannot be done is not offered.
        links=obj({"reserve": ref("Link"), "leave": ref("Link")}, self=ref("Link"), event=ref("Link"),
                  draw=ref("Link")),
    ),
    "RoomDraw": obj(
        {"seed": {**STR, "description": "Published from the on-sale instant."},
         "drawn": {"type": ["integer", "null"], "minimum": 0,
                   "description": "K: the places taken before the on-sale (null until the first join or poll "
                   "at or after it fixed it)."},
         "order": {"type": ["array", "null"], "items": INT,
                   "description": "Places 1..K in the drawn order: recompute it from `seed` by `rule`."}},
        seed_hash=STR, on_sale=TIME, rule=STR,
    ),
    "OrganizerOrder": {"allOf": [ref("Order"), obj(id=INT, anomalies={
        "type": "array", "description": "Signed payment events that did not match the order; none confirmed it.",
        "items": obj(kind=STR, detail=STR, session_id=STR, at=TIME, refunded=BOOL)})]},
    "OrderPage": obj(orders={"type": "array", "items": ref("OrganizerOrder")}, page=INT, per_page=INT,
                     total=COUNT, next=STR_OR_NULL),
    "CheckInRequest": {
        **obj({"device": {"type": "string", "maxLength": MAX_DEVICE_LENGTH,
                          "pattern": f"^[^{CONTROL_CHARACTER_CLASS}]*$",
                          "description": "Which door or phone scanned it (shown on later scans of the same ticket)."}},
              code={"type": "string", "minLength": 1, "maxLength": MAX_CODE_LENGTH,
                    "description": "The ticket code as scanned from its QR code or typed (case and spaces forgiven).",
                    "examples": ["ES-12-1-0123456789ABCDEF"]}),
        "additionalProperties": False,
    },
    "CheckIn": obj(
        result={"type": "string", "enum": [o.value for o in Outcome],
                "description": "`valid`: let in (checked in now). `already`: checked in before (`checked_in_at`, "
                "`device` say when and where). `refunded`, `cancelled`, `not_paid`: the order admits nobody "
                "(`order_status`). `wrong_event`: a ticket of another event. `forged`: not issued by us. "
                "`unreadable`: not a ticket code."},
        ticket_type=STR_OR_NULL, seat={"type": ["integer", "null"], "minimum": 1},
        order_id={"type": ["integer", "null"]},
        order_status={"type": ["string", "null"], "enum": [s.value for s in OrderStatus] + [None]},
        checked_in_at=TIME_OR_NULL, device=STR_OR_NULL,
    ),
    "Figures": obj(
        slug=STR, at=TIME,
        ticket_types={"type": "array", "items": obj(id=INT, name=STR, **FIGURES)},
        orders_by_status=obj(**{s.value: COUNT for s in OrderStatus}),
        revenue={"type": "object", "additionalProperties": COUNT,
                 "description": "Confirmed takings per currency, in minor units."},
    ),
}

RESERVATION_LINKS = {
    "GetReservation": {"operationId": "getReservation", "parameters": {"token": "$response.body#/token"}},
    "ReleaseReservation": {"operationId": "releaseReservation", "parameters": {"token": "$response.body#/token"}},
    "StartCheckout": {"operationId": "startCheckout", "parameters": {"token": "$response.body#/token"}},
    "RenewReservation": {"operationId": "renewReservation", "parameters": {"token": "$response.body#/token"}},
}
PLACE_LINKS = {
    "GetPlace": {"operationId": "getPlace", "parameters": {"token": "$response.body#/token"}},
    "LeaveWaitlist": {"operationId": "leaveWaitlist", "parameters": {"token": "$response.body#/token"}},
}
ROOM_PLACE = {"slug": "$response.body#/event/slug", "token": "$response.body#/token"}
ROOM_PLACE_LINKS = {
    "GetRoomPlace": {"operationId": "getRoomPlace", "parameters": ROOM_PLACE},
    "LeaveRoom": {"operationId": "leaveRoom", "parameters": ROOM_PLACE},
}


def reservation_response(description: str, links: bool = False, **headers) -> dict:
    response = json_response(description, ref("Reservation"), headers or None)
    if links:
        response["links"] = RESERVATION_LINKS
    return response


def place_response(description: str, links: bool = False, **headers) -> dict:
    response = json_response(description, ref("Place"), headers or None)
    if links:
        response["links"] = PLACE_LINKS
    return response


def room_place_response(description: str, links: bool = False, **headers) -> dict:
    response = json_response(description, ref("RoomPlace"), headers or None)
    if links:
        response["links"] = ROOM_PLACE_LINKS
    return response


def organizer(operation: dict) -> dict:
    operation["security"] = [{"organizerToken": []}]
    operation["responses"]["401"] = UNAUTHORIZED
    operation["tags"] = ["organizer"]
    return operation


PATHS = {
    "/openapi.json": {"get": {
        "operationId": "getOpenAPI", "summary": "This document.",
        "responses": {"200": json_response("The OpenAPI document.", {"type": "object"})},
    }},
    "/events": {"get": {
        "operationId": "listEvents", "summary": "Published events with ticket types and availability.",
        "responses": {"200": json_response("Events, soonest first.", ref("EventList"))},
    }},
    "/events/{slug}": {"get": {
        "operationId": "getEvent", "summary": "One published event.", "parameters": [SLUG],
        "responses": {"200": json_response("The event.", ref("Event")), "404": NOT_FOUND},
    }},
    "/events/{slug}/availability": {"get": {
        "operationId": "getAvailability",
        "summary": "Availability figures alone; poll with If-None-Match.",
        "parameters": [
            SLUG,
            {"name": "reservation", "in": "query", "required": False, "schema": TEXT,
             "description": "Your reservation token: adds held_by_you / held_by_others."},
            {"name": "If-None-Match", "in": "header", "required": False, "schema": STR,
             "description": "The ETag of the figures you have."},
        ],
        "responses": {
            "200": json_response("Current figures.", ref("Availability"),
                                 {"ETag": header("Weak validator of these figures.", required=True)}),
            "304": {"description": "Unchanged since the ETag you sent."},
            "404": NOT_FOUND, "422": INVALID,
        },
    }},
    "/events/{slug}/reservations": {"post": {
        "operationId": "createReservation",
        "summary": "Hold tickets for `hold_minutes`; rate limited per client.",
        "parameters": [SLUG],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": ref("ReservationRequest"),
            "example": {"email": "buyer@example.com", "items": [{"ticket_type_id": 1, "quantity": 1}]},
        }}},
        "responses": {
            "201": reservation_response("Held; the countdown runs from `expires_at`.", links=True,
                                        Location=header("The reservation's URL.", required=True)),
            "403": error("The event's waiting room is open: `admission_required` (send the `admission` your place "
                         "was given) or `admission_invalid` (forged, for another event, lapsed or already used). "
                         "`links` says where to take a place."),
            "404": NOT_FOUND,
            "409": error("Not enough tickets: `sold_out`, `all_reserved` (with `retry_after`; some may come "
                         "back when holds lapse), `waiting_list` (tickets that came back go to the people on the "
                         "waiting list first: join it) or `sales_closed`; or `already_reserved`: this email has a "
                         "live hold on the event (one per buyer; its link is in the email sent when it was placed).",
                         {"Retry-After": RETRY_AFTER}),
            "422": INVALID,
            "429": error("Too many reservations from this client: `too_many_requests` (the rate limit, shared "
                         "with the shop's form), `too_many_holds` (the event's cap of live holds per client; pay "
                         "for or release one) or `release_cooldown` (this buyer released a hold a moment ago).",
                         {"Retry-After": {**RETRY_AFTER, "required": True}}),
        },
    }},
    "/reservations/{token}": {
        "get": {
            "operationId": "getReservation", "summary": "Status, countdown and payment state; poll this.",
            "parameters": [TOKEN],
            "responses": {"200": reservation_response("The reservation."), "404": NOT_FOUND},
        },
        "delete": {
            "operationId": "releaseReservation", "summary": "Give the held tickets back.",
            "parameters": [TOKEN],
            "responses": {"200": reservation_response("Released (also when it already was)."),
                          "404": NOT_FOUND, "409": CONFLICT},
        },
    },
    "/reservations/{token}/checkout": {"post": {
        "operationId": "startCheckout",
        "summary": "Start payment. Poll the reservation until `payment.checkout_url` is set, "
                   "then send the buyer there.",
        "parameters": [TOKEN],
        "responses": {
            "202": reservation_response("Payment is being prepared.", Location=header(
                "Poll this URL.", required=True), **{"Retry-After": RETRY_AFTER}),
            "404": NOT_FOUND, "409": CONFLICT,
        },
    }},
    "/reservations/{token}/renewal": {"post": {
        "operationId": "renewReservation",
        "summary": "More time: in the hold's last minutes (when `renewable`), add the event's renewal length.",
        "parameters": [TOKEN],
        "responses": {"200": reservation_response("Renewed; `expires_at` is the new end of the hold."),
                      "404": NOT_FOUND, "409": RENEWAL_REFUSED},
    }},
    "/events/{slug}/waitlist": {"post": {
        "operationId": "joinWaitlist",
        "summary": "Wait in line for a ticket type that shows too few tickets available; tickets that come back "
                   "are offered in line order as a hold (emailed). Rate limited with reservations.",
        "parameters": [SLUG],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": ref("WaitlistRequest"),
            "example": {"ticket_type_id": 1, "quantity": 1, "email": "buyer@example.com"},
        }}},
        "responses": {
            "201": place_response("In line; the link to the place is emailed too.", links=True,
                                  Location=header("The place's URL.", required=True)),
            "404": error("No such event, or `ticket_type_id` is not one of its ticket types."),
            "409": error("Not joined: `already_waiting` (this email is in this line already), `sales_closed`, "
                         "or `conflict` (enough tickets are available: reserve them instead; or the line is "
                         "paused or closed)."),
            "422": INVALID,
            "429": error("Too many reservations and joins from this client: `too_many_requests` (the budget "
                         "is shared with reserving).", {"Retry-After": {**RETRY_AFTER, "required": True}}),
        },
    }},
    "/waitlist/{token}": {
        "get": {
            "operationId": "getPlace", "summary": "Position in line, what others hold, and the offer; poll this.",
            "parameters": [PLACE_TOKEN],
            "responses": {"200": place_response("The place."), "404": NOT_FOUND},
        },
        "delete": {
            "operationId": "leaveWaitlist", "summary": "Leave the line.",
            "parameters": [PLACE_TOKEN],
            "responses": {"200": place_response("Left (also when it already had; a closed line stays closed)."),
                          "404": NOT_FOUND,
                          "409": error("`conflict`: the place has its offer already: pay for it, or release "
                                       "the reservation.")},
        },
    },
    "/events/{slug}/room": {"post": {
        "operationId": "joinRoom",
        "summary": "Take a place in the event's waiting room (from `waiting_room.opens_at`); poll the place. Rate "
                   "limited per client, with the shop's room form.",
        "parameters": [ROOM_SLUG],
        "requestBody": {"required": False, "content": {"application/json": {
            "schema": ref("RoomJoinRequest"), "example": {"email": "buyer@example.com"},
        }}},
        "responses": {
            "201": room_place_response("A new place, at the back (or drawn, if taken before the on-sale).",
                                       links=True, Location=header("The place's URL.", required=True)),
            "404": error("No such event, or it has no waiting room."),
            "409": error("`already_in_room`: this email has a place in the room already (it is reached only "
                         "through its token); `conflict`: the room has not opened yet; `sales_closed`: it closed "
                         "(sold out, or sales ended)."),
            "422": INVALID,
            "429": error("`too_many_requests`: too many places taken from this client.",
                         {"Retry-After": {**RETRY_AFTER, "required": True}}),
            "503": ROOM_PAUSED,
        },
    }},
    "/events/{slug}/room/places/{token}": {
        "get": {
            "operationId": "getRoomPlace",
            "summary": "The place: phase, people ahead, tickets left, estimated wait, the admission once admitted; "
                       "poll this (it costs no database query).",
            "parameters": [ROOM_SLUG, ROOM_TOKEN,
                           {"name": "If-None-Match", "in": "header", "required": False, "schema": STR,
                            "description": "The ETag of the place as you last read it."}],
            "responses": {"200": room_place_response("The place."),
                          "304": {"description": "Unchanged since the ETag you sent."}, "404": NOT_FOUND},
        },
        "delete": {
            "operationId": "leaveRoom",
            "summary": "Leave the room, until admitted (an admission counts until used or lapsed: 409).",
            "parameters": [ROOM_SLUG, ROOM_TOKEN],
            "responses": {"200": room_place_response("Left (also when it already had, or the room closed)."),
                          "404": NOT_FOUND, "409": error("Admitted already: reserve, or let the admission lapse "
                                                         "(`conflict`)."), "503": ROOM_PAUSED},
        },
    },
    "/events/{slug}/room/draw": {"get": {
        "operationId": "getRoomDraw",
        "summary": "The published draw: the seed's hash before the on-sale; the seed, the rule and the drawn "
                   "order after it, so anyone can check the order.",
        "parameters": [ROOM_SLUG],
        "responses": {"200": json_response("The draw.", ref("RoomDraw")),
                      "404": error("No such event, or it has no waiting room.")},
    }},
    "/organizer/events": {"get": organizer({
        "operationId": "listOrganizerEvents", "summary": "The token's organizer's events, published or not.",
        "responses": {"200": json_response("Events.", ref("OrganizerEventList"))},
    })},
    "/organizer/events/{slug}/figures": {"get": organizer({
        "operationId": "getEventFigures", "summary": "Sold, held, available, orders by status, revenue.",
        "parameters": [SLUG],
        "responses": {"200": json_response("Figures now.", ref("Figures")), "404": NOT_FOUND},
    })},
    "/organizer/events/{slug}/orders": {"get": organizer({
        "operationId": "listEventOrders", "summary": "Orders, newest first, 50 a page.",
        "parameters": [
            SLUG,
            {"name": "status", "in": "query", "required": False,
             "schema": {"type": "string", "enum": [s.value for s in OrderStatus]}},
            {"name": "email", "in": "query", "required": False, "description": "Part of the buyer's email.",
             "schema": {**TEXT, "maxLength": 254}},
            {"name": "page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
        ],
        "responses": {"200": json_response("One page of orders.", ref("OrderPage")),
                      "404": NOT_FOUND, "422": INVALID},
    })},
    "/events/{slug}/checkins": {"post": organizer({
        "operationId": "createCheckIn",
        "summary": "Scan a ticket at the door of one of your events: let it in once, say why not otherwise.",
        "parameters": [SLUG],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": ref("CheckInRequest"), "example": {"code": "ES-12-1-0123456789ABCDEF", "device": "Door 1"},
        }}},
        "responses": {"200": json_response("The scan's answer (every outcome, `forged` included, is a 200).",
                                           ref("CheckIn")),
                      "404": NOT_FOUND, "422": INVALID},
    })},
}

# Any operation that reads or writes the database may answer this; nothing was changed then.
UNAVAILABLE = error("`busy` (a lock was not granted in time) or `unavailable` (the database is briefly "
                    "unreachable): nothing was changed; try again after Retry-After seconds.",
                    {"Retry-After": header("Seconds to wait.", required=True, schema=RETRY_AFTER["schema"])})
for _operations in PATHS.values():
    for _operation in _operations.values():
        _operation["responses"].setdefault("503", UNAVAILABLE)

# An operation that takes a body refuses one that is too large or not JSON; nothing was changed then.
BODY_REFUSALS = {
    "413": error("The body is larger than this server accepts (64 KiB by default): nothing was changed."),
    "415": error("`unsupported_media_type`: the body is not `Content-Type: application/json`; "
                 "nothing was changed."),
}
for _operations in PATHS.values():
    for _operation in _operations.values():
        if "requestBody" in _operation:
            _operation["responses"].update(BODY_REFUSALS)

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "eventsite API",
        "version": "1.0.0",
        "description": "Reserve tickets, watch the hold's countdown, renew it, pay and release; wait in line for "
                       "tickets that come back. Errors are always "
                       '`{"error": {"code", "message", "fields"}}`. Amounts are integers in minor units.',
    },
    "servers": [{"url": "/api/v1"}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"organizerToken": {
            "type": "http", "scheme": "bearer",
            "description": "Per-organizer token from `flask organizer api-token EMAIL`.",
        }},
    },
}
