"""codemods.legacy_reader: the couplings of each legacy module we ship, tricky import forms, and findings.

The reader never imports the legacy module; the rendered profile module is executed
only where the app it imports is a throw-away package of the test (``shopkit``).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from codemods.legacy_reader import Ref, read_legacy_module, render_profile_module
from newlog.error_profile import PayloadShape, Text

ROOT = Path(__file__).resolve().parents[2]
BOOKING = ROOT / "examples" / "booking_app" / "app" / "utils" / "structlog_config.py"
OLDER = ROOT / "examples" / "legacy_app" / "app" / "utils" / "structlog_config.py"
NEWER_VARIANT = ROOT / "examples" / "legacy_variants" / "newer_structlog_config.py"


def outcome_of(couplings, line_or_words):
    """The outcome of the rule matching these words (a tuple) or starting at that line."""
    for rule in couplings.rules:
        if rule.words == line_or_words or rule.line == line_or_words:
            return rule.outcome
    raise AssertionError(f"no rule for {line_or_words!r}")


# -- the modules we ship --------------------------------------------------------------------------


def test_booking_app_module_couplings() -> None:
    couplings = read_legacy_module(BOOKING)

    assert couplings.findings == []
    assert (couplings.module, couplings.variant) == ("app.utils.structlog_config", "newer")
    assert couplings.imports() == {
        "catalogue": Ref("app.messages", "ErrorMessages"),
        "category_enum": Ref("app.constants", "ErrorCategory"),
        "severity_enum": Ref("app.constants", "ErrorSeverity"),
        "base_error": Ref("app.errors", "AppError"),
        "status_mapper": Ref("app.errors", "map_exception_to_status"),
        "log_model": Ref("app.models", "UnifiedLog"),
        "log_level": Ref("app.models", "LogLevel"),
        "db": Ref("app.extensions", "db"),
    }
    assert couplings.catalogue_default == Text.catalogue("INTERNAL_ERROR")
    assert couplings.display_name == "Raumbuchung Portal"
    assert [(rule.codes, rule.outcome.message_key) for rule in couplings.rules if rule.codes] == [
        ((100, 499), "INVALID_REQUEST"),
        ((500, 599), "INTERNAL_ERROR"),
    ]
    network = outcome_of(couplings, ("timeout", "connection"))
    assert (network.status_code, network.message, network.recoverable) == (
        Ref("app.constants", "HttpStatus.GATEWAY_TIMEOUT"),
        Text.catalogue("DATABASE_TIMEOUT"),
        False,
    )
    assert couplings.payload == PayloadShape(
        keys=(
            "error",
            "error_id",
            "category",
            "severity",
            "message_code",
            "message",
            "timestamp",
            "recoverable",
            "suggestions",
            "context",
        ),
        context=("request_id", "user_id", "url", "method", "meta"),
        meta=("status_code", "error_type"),
        extra="truthy",
    )
    assert couplings.error_id.expression == "f'ERR-{uuid.uuid4().hex[:12].upper()}'"
    assert couplings.format_timestamp.refs == (("to_iso", Ref("app.utils.time_utils", "to_iso")),)
    assert couplings.identity["host"].code.definitions == (
        '_HOSTNAME = os.environ.get("POD_NAME") or socket.gethostname()',
    )
    assert couplings.identity["environment"].request_only is False
    assert dict(couplings.suggestions)[Ref("app.constants", "ErrorCategory.BOOKING")] == (
        "Wählen Sie einen anderen Raum oder Zeitraum.",
    )


def test_older_module_couplings() -> None:
    couplings = read_legacy_module(OLDER)

    assert couplings.findings == []
    assert couplings.variant == "older"
    assert (
        couplings.catalogue is None and couplings.category_enum is None
    )  # its categories are its own string constants
    assert couplings.base_error == Ref(
        "app.errors", "AppError"
    )  # imported inside _classify_error, in try/except ImportError
    assert couplings.status_mapper is None and couplings.double_call is True
    assert [(rule.codes, rule.outcome.category) for rule in couplings.rules if rule.codes] == [
        ((100, 400), "validation"),
        ((401, 401), "authentication"),
        ((402, 402), "validation"),
        ((403, 403), "authorization"),
        ((404, 499), "validation"),
        ((500, 599), "system"),
    ]
    assert couplings.rules[-1].outcome.category == "unknown"
    assert outcome_of(couplings, ("validation", "invalid")).message == Text.ERROR
    assert couplings.payload.keys == (
        "error",
        "error_id",
        "category",
        "severity",
        "message",
        "timestamp",
        "recoverable",
        "suggestions",
        "context",
    )
    assert (couplings.payload.context, couplings.payload.meta) == (("request_id", "user_id", "url", "method"), ())
    assert couplings.error_id.expression == "str(uuid.uuid4())"
    assert {key for key, rule in couplings.identity.items() if rule.request_only} == {"environment", "host"}
    assert couplings.display_name is None


def test_newer_variant_fixture_couplings() -> None:
    couplings = read_legacy_module(NEWER_VARIANT, "app.utils.structlog_config", root=ROOT / "examples" / "legacy_app")

    assert couplings.findings == []
    assert couplings.variant == "newer"
    assert {rule.outcome.message_key for rule in couplings.rules if rule.codes} == {"errors.http.{code}"}
    assert couplings.payload.meta == ("status_code", "error_type", "details")
    assert couplings.catalogue is None and couplings.status_mapper is None


@pytest.mark.parametrize(
    ("path", "teardown_message", "user_context"),
    [
        (BOOKING, "Anwendungsfehler", (("current_user_id", "id"), ("current_username", "username"), ("is_admin", "is_admin"))),
        (
            OLDER,
            "Application error",
            (("current_user_id", "id"), ("current_username", "username"), ("current_user_role", "role"), ("is_admin", "is_admin")),
        ),
        (NEWER_VARIANT, "Application error", (("current_user_id", "id"), ("current_username", "username"))),
    ],
    ids=["booking", "older", "newer"],
)
def test_the_teardown_message_the_user_keys_and_the_quiet_stdout_of_the_legacy_chain(
    path: Path, teardown_message: str, user_context: tuple[tuple[str, str], ...]
) -> None:
    couplings = read_legacy_module(path, "app.utils.structlog_config", root=path.parents[2])

    assert (couplings.teardown_message, couplings.user_context) == (teardown_message, user_context)
    assert couplings.stdout is False  # structlog's stdlib LoggerFactory: the chain printed nothing itself
    rendered = render_profile_module(couplings)
    assert "    stdout=False," in rendered
    assert f"teardown_message={teardown_message!r}," in rendered
    assert f"user_context={user_context!r}," in rendered


@pytest.mark.parametrize("path", [BOOKING, OLDER], ids=["booking_app", "legacy_app"])
def test_the_rendered_module_is_valid_python_naming_its_findings(path: Path) -> None:
    source = render_profile_module(read_legacy_module(path))

    compile(source, "profile.py", "exec")
    assert "Findings: none" in source
    assert "PROFILE = ErrorProfile(" in source and "IDENTITY = {" in source


# -- tricky import forms, on a throw-away app package --------------------------------------------

SHOP_FILES = {
    "shopkit/__init__.py": "",
    "shopkit/texts.py": """
        class Texts:
            FALLBACK = "Etwas ist schiefgegangen."
            TOO_SLOW = "Zu langsam."
            NOT_ALLOWED = "Nicht erlaubt."
            BAD_INPUT = "Falsche Eingabe."
            CLASH = "Konflikt."
            BROKEN_DB = "Datenbankfehler."
    """,
    "shopkit/kinds.py": """
        import enum

        class Kind(enum.Enum):
            DATABASE = "db"
            NETWORK = "net"
            AUTHORIZATION = "authz"
            VALIDATION = "input"
            SYSTEM = "sys"
            SHOP = "shop"

        class Level(enum.Enum):
            LOW = 1
            MEDIUM = 2
            HIGH = 3
    """,
    "shopkit/errors.py": """
        from shopkit.kinds import Kind, Level

        class ShopError(Exception):
            status_code = 409
            category = Kind.SHOP
            severity = Level.MEDIUM
            message_key = "CLASH"
            message = "Konflikt."
            recoverable = True

        def status_for(error):
            return getattr(error, "status_code", 500)
    """,
    "shopkit/models.py": "LogRow = LogLevel = object\n",
    "shopkit/db.py": "database = object()\n",
    "shopkit/logsetup/__init__.py": "",
    "shopkit/logsetup/structlog_config.py": """
        import http
        import uuid as uuid_module
        from dataclasses import dataclass
        from http import HTTPStatus as Status

        import shopkit.texts as texts
        from .. import errors
        from ..db import database
        from werkzeug import exceptions as wexc

        try:
            from shopkit.kinds import Kind as Cat, Level
        except ImportError:  # pragma: no cover
            from shopkit.legacy_kinds import Kind as Cat, Level

        if True:
            from shopkit.models import LogRow, LogLevel

        _NETWORK = ("timeout", "connection")
        _DEFAULT_HINTS = ["Support kontaktieren."]
        _HINTS = {Cat.DATABASE: ["Später erneut versuchen."], Cat.SHOP: ["Warenkorb prüfen."]}
        DISPLAY = "Shop Deluxe"


        def _text(key):
            return getattr(texts.Texts, key, texts.Texts.FALLBACK)


        @dataclass
        class ErrorMetadata:
            status_code: int
            category: Cat
            severity: Level
            message_key: str
            message: str
            recoverable: bool


        class ErrorContext:
            def __init__(self, error, request=None):
                from datetime import datetime, timezone  # function-level import the carried expression needs

                self.error_id = "E" + uuid_module.uuid4().hex
                self.timestamp = datetime.now(timezone.utc)


        def _classify_error(error):
            from ..errors import ShopError as Base  # function-level, relative, aliased

            if isinstance(error, Base):
                return ErrorMetadata(error.status_code, error.category, error.severity, error.message_key, error.message, error.recoverable)
            if isinstance(error, wexc.HTTPException):
                code = error.code or Status.INTERNAL_SERVER_ERROR
                if code in (http.HTTPStatus.UNAUTHORIZED, 403):
                    return ErrorMetadata(code, Cat.AUTHORIZATION, Level.MEDIUM, f"http.{code}", error.description, True)
                return ErrorMetadata(code, Cat.SYSTEM if code >= 500 else Cat.VALIDATION, Level.LOW, "HTTP", error.description, not code >= 500)
            text = str(error).lower()
            if isinstance(error, (TimeoutError, ConnectionError)) or any(word in text for word in _NETWORK):
                return ErrorMetadata(Status.GATEWAY_TIMEOUT, Cat.NETWORK, Level.HIGH, "TOO_SLOW", _text("TOO_SLOW"), False)
            if "denied" in text and isinstance(error, OSError):
                return ErrorMetadata(403, Cat.AUTHORIZATION, Level.MEDIUM, "NOT_ALLOWED", texts.Texts.NOT_ALLOWED, False)
            return ErrorMetadata(500, Cat.SYSTEM, Level.HIGH, "FALLBACK", _text("FALLBACK"), False)


        def enhanced_error_handler(error, context=None, *, extra=None):
            context = context or ErrorContext(error)
            metadata = _classify_error(error)
            payload = {
                "error": True,
                "error_id": context.error_id,
                "message": metadata.message,
                "message_code": metadata.message_key,
                "category": metadata.category.value,
                "timestamp": context.timestamp.strftime("%Y-%m-%d %H:%M"),
                "suggestions": _HINTS.get(metadata.category, _DEFAULT_HINTS),
            }
            if extra is not None:
                payload["extra"] = extra
            return payload


        def error_handler(func):
            def wrapper(*args, **kwargs):
                try:
                    return func(*args, **kwargs)
                except Exception as exc:
                    payload = enhanced_error_handler(exc)
                    status = errors.status_for(exc)
                    return payload, status
            return wrapper


        class StructlogConfig:
            def _add_global_context(self, logger, method_name, event_dict):
                event_dict["app_name"] = DISPLAY
                event_dict["app_version"] = "1"
                event_dict["environment"] = "prod"
                event_dict["host"] = "here"
                return event_dict

        def flush(handler):
            database.session.add(LogRow(**handler))
            level = LogLevel[handler]
    """,
}


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Path]:
    for name, text in SHOP_FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    yield tmp_path / "shopkit" / "logsetup" / "structlog_config.py"
    for name in [name for name in sys.modules if name == "shopkit" or name.startswith("shopkit.")]:
        del sys.modules[name]


def test_import_forms_are_resolved_against_the_files_package(shop: Path) -> None:
    couplings = read_legacy_module(shop)

    assert couplings.module == "shopkit.logsetup.structlog_config"
    assert couplings.findings == []
    assert couplings.imports() == {
        "catalogue": Ref("shopkit.texts", "Texts"),  # import shopkit.texts as texts; getattr(texts.Texts, ...)
        "category_enum": Ref("shopkit.kinds", "Kind"),  # from ... import Kind as Cat, in try/except ImportError
        "severity_enum": Ref("shopkit.kinds", "Level"),
        "base_error": Ref("shopkit.errors", "ShopError"),  # function-level relative import, aliased
        "status_mapper": Ref("shopkit.errors", "status_for"),  # from .. import errors; errors.status_for(exc)
        "log_model": Ref("shopkit.models", "LogRow"),  # imported under 'if True:'
        "log_level": Ref("shopkit.models", "LogLevel"),
        "db": Ref("shopkit.db", "database"),
    }
    assert couplings.catalogue_default == Text.catalogue("FALLBACK")
    assert couplings.display_name == "Shop Deluxe"
    assert couplings.http_default_code == 500  # Status.INTERNAL_SERVER_ERROR, read from the standard library


def test_conditions_and_values_of_the_rules(shop: Path) -> None:
    couplings = read_legacy_module(shop)

    http = [
        (rule.codes, rule.outcome.category.name, rule.outcome.message_key) for rule in couplings.rules if rule.codes
    ]
    assert http == [
        ((100, 400), "Kind.VALIDATION", "HTTP"),
        ((401, 401), "Kind.AUTHORIZATION", "http.{code}"),
        ((402, 402), "Kind.VALIDATION", "HTTP"),
        ((403, 403), "Kind.AUTHORIZATION", "http.{code}"),
        ((404, 499), "Kind.VALIDATION", "HTTP"),
        ((500, 599), "Kind.SYSTEM", "HTTP"),
    ]
    network = [rule for rule in couplings.rules if rule.outcome and rule.outcome.message_key == "TOO_SLOW"]
    assert [(tuple(ref.name for ref in rule.classes), rule.words) for rule in network] == [
        (("TimeoutError", "ConnectionError"), ()),  # 'isinstance(...) or any(...)' is two rules
        ((), ("timeout", "connection")),  # words from a module-level tuple
    ]
    [denied] = [rule for rule in couplings.rules if rule.words == ("denied",)]
    assert denied.classes == (Ref("builtins", "OSError"),)  # 'and' of a word and a class is one rule
    assert denied.outcome.message == Text.catalogue(
        "NOT_ALLOWED"
    )  # texts.Texts.NOT_ALLOWED, an attribute of the catalogue
    assert couplings.payload.keys == (
        "error",
        "error_id",
        "message",
        "message_code",
        "category",
        "timestamp",
        "suggestions",
    )
    assert couplings.payload.extra == "given"
    assert couplings.format_timestamp.expression == "timestamp.strftime('%Y-%m-%d %H:%M')"


def test_the_rendered_module_builds_a_profile_that_answers_like_the_source(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(shop.parents[2]))
    source = render_profile_module(read_legacy_module(shop))
    module = ModuleType("shop_profile")

    exec(compile(source, "shop_profile.py", "exec"), module.__dict__)

    from shopkit.errors import ShopError
    from shopkit.kinds import Kind

    profile = module.PROFILE
    assert profile.resolve(ShopError()).category is Kind.SHOP
    assert profile.resolve(TimeoutError()).message == "Zu langsam."
    assert profile.resolve(OSError("Access denied")).status_code == 403
    assert profile.resolve(KeyError("x")).message == "Etwas ist schiefgegangen."
    assert profile.suggestions_for(Kind.SHOP) == ["Warenkorb prüfen."]
    assert profile.suggestions_for(Kind.NETWORK) == ["Support kontaktieren."]
    assert profile.status_for(ShopError()) == 409
    assert module.new_error_id().startswith("E") and module.IDENTITY["app_name"] == "Shop Deluxe"


# -- what the reader cannot read becomes a finding -----------------------------------------------


def write(tmp_path: Path, source: str) -> Path:
    package = tmp_path / "oddapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    path = package / "structlog_config.py"
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def test_unreadable_pieces_are_findings_with_path_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        from oddapp.things import *

        def _suggest(category):
            return ["Retry"]

        def _classify_error(error):
            for kind in (KeyError, ValueError):
                if isinstance(error, kind):
                    return {"status_code": 400}
            return {"status_code": 500, "category": "system", "severity": "high", "message": "Oops", "recoverable": False}

        def enhanced_error_handler(error, context=None, *, extra=None):
            info = _classify_error(error)
            payload = {"error": True, "category": info["category"], "hint": "x", "suggestions": _suggest(info["category"])}
            return payload
        """,
    )

    couplings = read_legacy_module(path)
    messages = [str(finding) for finding in couplings.findings]

    assert f"{path}:1: could not determine the names of 'from oddapp.things import *'" in messages
    assert f"{path}:7: could not determine the classification: could not read a For statement" in messages
    assert any(m.startswith(f"{path}:14: could not determine the payload key") and "'hint'" in m for m in messages)
    assert any(m.startswith(f"{path}:14: could not determine the suggestions lookup") for m in messages)
    assert any("could not determine the error ids and timestamps" in m for m in messages)
    assert any("could not determine error_handler's status" in m for m in messages)
    assert any("could not determine the variant" in m for m in messages)
    assert len(couplings.rules) == 1  # what could be read is still there


def test_rendering_refuses_a_module_without_readable_rules(tmp_path: Path) -> None:
    path = write(tmp_path, "def enhanced_error_handler(error):\n    return {}\n")

    couplings = read_legacy_module(path)

    with pytest.raises(
        ValueError, match=r"cannot build an error profile from .*structlog_config.py.*\n.*could not determine"
    ):
        render_profile_module(couplings)


def test_payload_changes_the_reader_cannot_follow_are_findings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        _BASE = {"system": ["Retry"]}
        _HINTS = {**_BASE, "network": ["Later"]}

        def _classify_error(error):
            return {"status_code": 500, "category": "system", "severity": "high", "message": "Oops", "recoverable": False}

        def enhanced_error_handler(error, context=None, *, extra=None):
            info = _classify_error(error)
            payload = {"error": True, "message": gettext(info["message"]), "suggestions": _HINTS.get(info["category"], [])}
            payload.update(build_extra(error))
            del payload["error"]
            if extra:
                payload["extra"] = extra
            return payload
        """,
    )

    messages = [str(finding) for finding in read_legacy_module(path).findings]

    assert f"{path}:2: could not determine the suggestions merged from **_BASE" in messages
    assert f"{path}:9: could not determine the payload's message: gettext(info['message'])" in messages
    assert f"{path}:10: could not determine the payload: payload.update(build_extra(error))" in messages
    assert f"{path}:11: could not determine the payload: del payload['error']" in messages


def test_a_case_sensitive_word_test_is_a_finding_not_a_guess(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        def _classify_error(error):
            if "Timeout" in str(error):
                return {"status_code": 504, "category": "network", "severity": "high", "message": "Slow", "recoverable": True}
            return {"status_code": 500, "category": "system", "severity": "high", "message": "Oops", "recoverable": False}

        def enhanced_error_handler(error, context=None, *, extra=None):
            info = _classify_error(error)
            return info
        """,
    )

    messages = [str(finding) for finding in read_legacy_module(path).findings]

    assert (
        f"{path}:2: could not determine the classification: could not use a case-sensitive word match (str(error) without .lower())"
        in messages
    )
