"""The texts the application shows its users (German).

Error responses look their message up by key:
``getattr(ErrorMessages, "BOOKING_CONFLICT", ErrorMessages.INTERNAL_ERROR)``.
"""

from __future__ import annotations


class ErrorMessages:
    """Client-facing error texts, one constant per message key."""

    INTERNAL_ERROR = "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut."
    INVALID_REQUEST = "Die Anfrage ist ungültig."
    VALIDATION_ERROR = "Die übermittelten Daten sind ungültig."
    CONSTRAINT_VIOLATION = "Der Datensatz steht im Widerspruch zu vorhandenen Daten."
    DATABASE_QUERY_ERROR = "Bei der Datenbankabfrage ist ein Fehler aufgetreten."
    DATABASE_TIMEOUT = "Der Dienst antwortet nicht rechtzeitig. Bitte versuchen Sie es in einigen Minuten erneut."
    PERMISSION_DENIED = "Sie haben keine Berechtigung für diese Aktion."
    AUTHENTICATION_REQUIRED = "Bitte melden Sie sich an."
    LOGIN_FAILED = "Benutzername oder Passwort ist falsch."
    NOT_FOUND = "Die angeforderte Ressource wurde nicht gefunden."
    ROOM_NOT_FOUND = "Der Raum wurde nicht gefunden."
    BOOKING_NOT_FOUND = "Die Buchung wurde nicht gefunden."
    BOOKING_CONFLICT = "Der Raum ist in diesem Zeitraum bereits gebucht."
    BOOKING_LIMIT_REACHED = "Sie haben die maximale Anzahl aktiver Buchungen erreicht."
    INVALID_TIME_RANGE = "Der gewählte Zeitraum ist ungültig."
    CALENDAR_UNAVAILABLE = "Der Kalenderdienst ist derzeit nicht erreichbar."


class SuccessMessages:
    """Client-facing confirmation texts."""

    BOOKING_CREATED = "Die Buchung wurde angelegt."
    BOOKING_CANCELLED = "Die Buchung wurde storniert."
    LOGGED_IN = "Sie sind angemeldet."
    LOGGED_OUT = "Sie sind abgemeldet."
