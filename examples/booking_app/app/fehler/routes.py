"""Routes that fail on purpose, one per kind of error, answered two ways:

* ``GET /api/fehler/<kind>``: the exception reaches the application's ``@app.errorhandler``s;
* ``GET /api/fehler/<kind>/dekoriert``: the view is wrapped in the logging module's ``@error_handler``.

``ERRORS`` maps each kind to the function that raises it (tests iterate over it).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort
from sqlalchemy import select, text

from app.errors import AccessDenied, BookingConflict, BookingLimitReached, CalendarUnavailable, RoomNotFound, ValidationError
from app.extensions import db
from app.models import Room
from app.utils import structlog_config

fehler_bp = Blueprint("fehler", __name__)

DUPLICATE_ROOM = "Doppelter Raum"


def _integrity_error() -> None:
    """A real unique violation on ``rooms.name``."""
    if db.session.scalar(select(Room).filter_by(name=DUPLICATE_ROOM)) is None:
        db.session.add(Room(name=DUPLICATE_ROOM))
        db.session.commit()
    db.session.add(Room(name=DUPLICATE_ROOM))
    db.session.commit()


def _database_error() -> None:
    """A real error of the database (a table that does not exist)."""
    db.session.execute(text("SELECT * FROM raeume_archiv"))


def _raise(make: Callable[[], BaseException]) -> Callable[[], None]:
    def fail() -> None:
        raise make()

    return fail


def _abort(code: int) -> Callable[[], None]:
    def fail() -> None:
        abort(code)

    return fail


ERRORS: dict[str, Callable[[], None]] = {
    # the application's own errors (AppError subclasses)
    "validierung": _raise(lambda: ValidationError("end before start")),
    "raum-fehlt": _raise(lambda: RoomNotFound("room 999", room_id=999)),
    "konflikt": _raise(lambda: BookingConflict("overlap", room="Rhein")),
    "limit": _raise(lambda: BookingLimitReached("limit", active=3)),
    "zugriff": _raise(lambda: AccessDenied("not the owner")),
    "kalender": _raise(lambda: CalendarUnavailable("calendar API down")),
    # werkzeug HTTP errors
    "http-400": _abort(400),
    "http-404": _abort(404),
    "http-405": _abort(405),
    "http-500": _abort(500),
    "http-503": _abort(503),
    # SQLAlchemy
    "integritaet": _integrity_error,
    "datenbank": _database_error,
    # plain exceptions classified by the words of their message
    "timeout": _raise(lambda: TimeoutError("Kalender-API: timeout nach 30 s")),
    "verbindung": _raise(lambda: RuntimeError("connection reset by calendar host")),
    "berechtigung": _raise(lambda: PermissionError("permission denied: /exports/2024")),
    "verboten": _raise(lambda: RuntimeError("Forbidden: export locked by admin")),
    "verweigert": _raise(lambda: OSError("access denied to archive")),
    "ungueltig": _raise(lambda: ValueError("invalid room number 'A-??'")),
    "validation": _raise(lambda: RuntimeError("schema validation failed for payload")),
    # anything else
    "generisch": _raise(lambda: ZeroDivisionError("division by zero")),
}


def _fail(kind: str) -> None:
    raise_it = ERRORS.get(kind)
    if raise_it is None:
        abort(404)
    raise_it()


@fehler_bp.get("/<kind>")
def through_app_handlers(kind: str):
    """Raise error ``kind``; the application's error handlers answer."""
    _fail(kind)
    return {"unreachable": True}


@fehler_bp.get("/<kind>/dekoriert")
@structlog_config.error_handler
def through_error_handler(kind: str):
    """Raise error ``kind`` inside ``@error_handler``."""
    _fail(kind)
    return {"unreachable": True}
