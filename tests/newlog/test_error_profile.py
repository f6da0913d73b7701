"""newlog answers errors the way an app's error profile says: payload shape, texts, formats, per app or process-wide.

The profiles here are written by hand; ``tests/examples/test_error_identity.py`` checks the
profiles ``codemods.legacy_reader`` reads from the shipped legacy modules against those modules.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from newlog.error_adapter import (
    ErrorContext,
    ErrorMetadata,
    classify,
    current_error_profile,
    enhanced_error_handler,
    error_catalogue,
    error_handler,
    error_response,
    register_error_metadata,
    unregister_error_metadata,
    use_error_profile,
)
from newlog.error_profile import ErrorProfile, Outcome, PayloadShape, Rule, Text


class Kategorie(enum.Enum):
    """An app's plain enum, with a value newlog does not know."""

    BUCHUNG = "buchung"
    SYSTEM = "system"
    NETZ = "netz"


class Stufe(enum.Enum):
    NIEDRIG = "low"
    HOCH = "high"


class Texte:
    ALLGEMEIN = "Allgemeiner Fehler."
    ZU_LANGSAM = "Zu langsam."


class BuchungsFehler(Exception):
    status_code = 409
    category = Kategorie.BUCHUNG
    severity = Stufe.NIEDRIG
    message_key = "BELEGT"
    message = "Belegt."
    recoverable = True


NEWER = ErrorProfile(
    rules=(
        Rule(classes=(BuchungsFehler,)),
        Rule(
            Outcome(None, Kategorie.SYSTEM, Stufe.HOCH, "http.{code}", Text.DESCRIPTION, False),
            classes=(HTTPException,),
            codes=(400, 599),
        ),
        Rule(
            Outcome(504, Kategorie.NETZ, Stufe.HOCH, "ZU_LANGSAM", Text.catalogue("ZU_LANGSAM"), False),
            words=("timeout",),
        ),
        Rule(Outcome(500, Kategorie.SYSTEM, Stufe.HOCH, "ALLGEMEIN", Text.catalogue("GIBT_ES_NICHT"), False)),
    ),
    payload=PayloadShape(
        keys=("error", "error_id", "message_code", "message", "category", "timestamp", "suggestions", "context"),
        context=("request_id", "url", "meta"),
        meta=("error_type", "status_code"),
        extra="given",
    ),
    suggestions={Kategorie.BUCHUNG: ("Anderen Raum wählen.",)},
    default_suggestions=("Support anrufen.",),
    catalogue=Texte,
    catalogue_default=Text.catalogue("ALLGEMEIN"),
    status=lambda error: 418,
    new_error_id=lambda: "ERR-FIXED",
    now=lambda: datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    format_timestamp=lambda timestamp: timestamp.strftime("%d.%m.%Y %H:%M"),
    variant="newer",
)

OLDER = ErrorProfile(
    rules=(Rule(Outcome(500, "unknown", "high", None, Text.ERROR, False)),),
    payload=PayloadShape(
        keys=("error", "error_id", "category", "severity", "message", "timestamp", "recoverable", "suggestions")
    ),
    default_suggestions=("Contact support with the error id",),
    variant="older",
)


@pytest.fixture(autouse=True)
def no_profile_left_behind() -> Iterator[None]:
    yield
    use_error_profile(None)


@pytest.fixture
def app() -> Flask:
    return Flask(__name__)


def test_payload_has_the_profiles_keys_in_its_order_and_its_formats(app: Flask) -> None:
    use_error_profile(NEWER)

    with app.test_request_context("/raum/7"):
        payload = enhanced_error_handler(BuchungsFehler(), extra={})

    assert json.dumps(payload, ensure_ascii=False) == json.dumps(
        {
            "error": True,
            "error_id": "ERR-FIXED",
            "message_code": "BELEGT",
            "message": "Belegt.",
            "category": "buchung",
            "timestamp": "02.01.2030 03:04",
            "suggestions": ["Anderen Raum wählen."],
            "context": {
                "request_id": None,
                "url": "http://localhost/raum/7",
                "meta": {"error_type": "BuchungsFehler", "status_code": 409},
            },
            "extra": {},
        },
        ensure_ascii=False,
    )


def test_an_older_profile_sends_no_context_block_and_its_own_id_format() -> None:
    use_error_profile(OLDER)

    payload = enhanced_error_handler(KeyError("room"), extra={})

    assert list(payload) == [
        "error",
        "error_id",
        "category",
        "severity",
        "message",
        "timestamp",
        "recoverable",
        "suggestions",
    ]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", payload["error_id"])
    assert (payload["category"], payload["message"]) == ("unknown", "'room'")
    assert payload["suggestions"] == ["Contact support with the error id"]


def test_rules_read_codes_words_and_the_catalogue_with_its_default() -> None:
    use_error_profile(NEWER)

    http = classify(ServiceUnavailable())
    slow = classify(RuntimeError("Upstream TIMEOUT"))
    other = classify(ValueError("x"))

    assert (http.status_code, http.message_key, http.message) == (503, "http.503", ServiceUnavailable.description)
    assert (slow.status_code, slow.category, slow.message) == (504, Kategorie.NETZ, "Zu langsam.")
    assert other.message == "Allgemeiner Fehler."  # GIBT_ES_NICHT is missing: the catalogue's default text
    assert other.to_dict()["category"] == "system"


def test_error_handler_answers_with_the_apps_status_mapper_and_calls_once(app: Flask) -> None:
    use_error_profile(NEWER)
    calls = []

    @error_handler
    def view() -> str:
        calls.append(1)
        raise BuchungsFehler()

    with app.test_request_context("/"):
        response, status = view()

    assert (len(calls), status) == (1, 418)
    assert response.get_json()["message_code"] == "BELEGT"
    assert error_response(RuntimeError("x"))[1] == 418


def test_a_profile_per_app_wins_over_the_process_default(app: Flask) -> None:
    other = Flask("other")
    use_error_profile(OLDER)
    use_error_profile(NEWER, app)
    use_error_profile(None, other)

    with app.app_context():
        assert current_error_profile() is NEWER
        assert ErrorContext(KeyError()).error_id == "ERR-FIXED"
    with other.app_context():
        assert current_error_profile() is None
        assert set(enhanced_error_handler(KeyError())) >= {"message_code", "context"}  # newlog's own
    assert current_error_profile() is OLDER


def test_registered_metadata_still_wins_under_a_profile() -> None:
    use_error_profile(NEWER)
    register_error_metadata(LookupError, ErrorMetadata(404, "validation", "low", "gone", "Weg.", True))
    try:
        assert classify(KeyError("x")).message == "Weg."
    finally:
        unregister_error_metadata(LookupError)


def test_profile_mistakes_are_named() -> None:
    with pytest.raises(ValueError, match="last rule must be unconditional"):
        ErrorProfile(rules=(Rule(words=("x",), outcome=OLDER.rules[0].outcome),), payload=OLDER.payload)
    with pytest.raises(ValueError, match="no catalogue is given"):
        ErrorProfile(
            rules=(Rule(Outcome(500, "system", "high", "K", Text.catalogue("K"), False)),), payload=OLDER.payload
        )
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['hint'\]"):
        PayloadShape(keys=("error", "hint"))
    with pytest.raises(TypeError, match="ErrorProfile or None"):
        use_error_profile({"rules": []})  # type: ignore[arg-type]
    no_default = ErrorProfile(
        rules=(Rule(Outcome(500, "system", "high", "K", Text.catalogue("K"), False)),),
        payload=OLDER.payload,
        catalogue={},
    )
    with pytest.raises(KeyError, match="no message 'K' and no catalogue_default"):
        no_default.resolve(ValueError())


def test_error_metadata_keeps_an_apps_own_enum_members() -> None:
    metadata = ErrorMetadata(409, Kategorie.BUCHUNG, Stufe.NIEDRIG, "BELEGT", "Belegt.", True)

    assert metadata.category is Kategorie.BUCHUNG
    assert metadata.to_dict() == {
        "status_code": 409,
        "category": "buchung",
        "severity": "low",
        "message_key": "BELEGT",
        "message": "Belegt.",
        "recoverable": True,
    }


def test_the_public_catalogue_of_newlog_and_of_a_profile() -> None:
    own = error_catalogue(None)
    profiled = error_catalogue(NEWER)

    assert own.messages["network_error"] == "A network operation timed out or failed."
    assert "The data conflicts with an existing record or a database constraint." in own.texts
    assert own.suggestions["network"] and own.default_suggestions == own.suggestions["unknown"]
    assert profiled.messages == {"ALLGEMEIN": "Allgemeiner Fehler.", "ZU_LANGSAM": "Zu langsam."}
    assert profiled.suggestions == {"buchung": ("Anderen Raum wählen.",)}
    assert profiled.default_suggestions == ("Support anrufen.",)
    use_error_profile(OLDER)
    assert error_catalogue().default_suggestions == ("Contact support with the error id",)
