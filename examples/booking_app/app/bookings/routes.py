"""Rooms and bookings: public room list, bookings of the logged-in user (CSRF-protected JSON posts)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select

from app.constants import HttpStatus
from app.extensions import db
from app.messages import SuccessMessages
from app.models import Booking, Room
from app.services import booking_service
from app.utils.decorators import audited, timed
from app.utils.structlog_config import (
    get_api_logger,
    log_info,
)

bookings_bp = Blueprint("bookings", __name__)
logger = get_api_logger()


@bookings_bp.get("/health")
@timed
def health():
    """Liveness probe; logs one row."""
    log_info("Health-Check", module="api")
    return jsonify(status="ok")


@bookings_bp.get("/rooms")
@timed
def rooms():
    """All rooms (public)."""
    found = db.session.scalars(select(Room).order_by(Room.name)).all()
    logger.info("%d Räume gelistet", len(found), module="rooms")
    return jsonify([room.to_dict() for room in found])


@bookings_bp.get("/rooms/<int:room_id>")
def room(room_id: int):
    """One room; 404 (RoomNotFound) for unknown ids."""
    found = db.session.get(Room, room_id)
    if found is None:
        from app.errors import RoomNotFound

        raise RoomNotFound(f"room {room_id}", room_id=room_id)
    return jsonify(found.to_dict())


@bookings_bp.get("/bookings")
@login_required
@timed
def my_bookings():
    """The logged-in user's bookings."""
    found = db.session.scalars(select(Booking).filter_by(user_id=current_user.id).order_by(Booking.starts_at)).all()
    return jsonify([booking.to_dict() for booking in found])


@bookings_bp.post("/bookings")
@login_required
@audited
def create_booking():
    """Book a room: ``{"room_id", "starts_at", "ends_at"}`` (ISO 8601); 201, or 409/422/404 errors."""
    data = request.get_json(silent=True) or {}
    start, end = booking_service.parse_range(str(data.get("starts_at", "")), str(data.get("ends_at", "")))
    booking = booking_service.create_booking(current_user, int(data.get("room_id", 0)), start, end)
    return jsonify(message=SuccessMessages.BOOKING_CREATED, booking=booking.to_dict()), HttpStatus.CREATED


@bookings_bp.delete("/bookings/<int:booking_id>")
@login_required
def cancel_booking(booking_id: int):
    """Cancel one of the user's bookings (admins: any booking)."""
    booking = booking_service.cancel_booking(current_user, booking_id)
    return jsonify(message=SuccessMessages.BOOKING_CANCELLED, booking=booking.to_dict())
