"""Demo users and rooms (used by ``flask seed-demo``, ``scripts/seed_demo_data.py`` and the tests)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Room, User

DEMO_USERS = (
    # username, full name, role, password
    ("anna", "Anna Admin", "admin", "anna-passwort"),
    ("bernd", "Bernd Berger", "mitarbeiter", "bernd-passwort"),
    ("clara", "", "mitarbeiter", "clara-passwort"),
)
DEMO_ROOMS = (("Rhein", 12), ("Main", 6), ("Elbe", 4))


def seed() -> tuple[int, int]:
    """Insert the demo users and rooms that are missing; return (users added, rooms added). Needs an app context."""
    users = rooms = 0
    for username, full_name, role, password in DEMO_USERS:
        if db.session.scalar(select(User).filter_by(username=username)) is None:
            user = User(username=username, full_name=full_name, role=role)
            user.set_password(password)
            db.session.add(user)
            users += 1
    for name, capacity in DEMO_ROOMS:
        if db.session.scalar(select(Room).filter_by(name=name)) is None:
            db.session.add(Room(name=name, capacity=capacity))
            rooms += 1
    db.session.commit()
    return users, rooms
