"""Any value a step observes is recorded JSON-safely, and recording it never raises."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import math

from compat.characterize.normalize import mask, normalize_row, outcome


class Category(enum.Enum):
    DATABASE = "database"


class Level(enum.IntEnum):
    HIGH = 3


class Severity(enum.StrEnum):
    LOW = "low"


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class Exploding(dict):
    def items(self):  # type: ignore[override]
        raise OSError("cannot list")


def test_enums_are_recorded_by_class_and_value() -> None:
    assert mask({"category": Category.DATABASE, "level": Level.HIGH, "severity": Severity.LOW}) == {
        "category": {"enum": f"{__name__}.Category", "value": "database", "equals_value": False},
        "level": {"enum": f"{__name__}.Level", "value": 3, "equals_value": True},
        "severity": {"enum": f"{__name__}.Severity", "value": "low", "equals_value": True},
    }


def test_objects_are_recorded_by_type_and_repr_even_when_repr_fails() -> None:
    recorded = mask([decimal.Decimal("1.5"), b"\x00ab", Unprintable(), object()])

    assert recorded[0] == {"object": "decimal.Decimal", "repr": "Decimal('1.5')"}
    assert recorded[1] == {"object": "builtins.bytes", "repr": "b'\\x00ab'"}
    assert recorded[2] == {"object": f"{__name__}.Unprintable", "repr": "<repr raised RuntimeError: no repr for you>"}
    assert recorded[3] == {"object": "builtins.object", "repr": "<object object at <addr>>"}


def test_awkward_values_become_json() -> None:
    cycle: list = [1]
    cycle.append(cycle)

    recorded = mask(
        {
            "cycle": cycle,
            "set": {3, 1, 2},
            "nan": math.nan,
            "when": datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc),
            "day": datetime.date(2024, 5, 1),
            "tuple": (1, "a"),
            1: "int key",
            "broken": Exploding(a=1),
        }
    )

    assert recorded == {
        "cycle": [1, "<cycle>"],
        "set": [1, 2, 3],
        "nan": {"object": "builtins.float", "repr": "nan"},
        "when": "<timestamp>",
        "day": "2024-05-01",
        "tuple": [1, "a"],
        "1": "int key",
        "broken": {"object": f"{__name__}.Exploding", "raised": "builtins.OSError: cannot list"},
    }
    json.dumps(recorded, allow_nan=False)


def test_an_exception_is_an_outcome_of_type_and_masked_message() -> None:
    assert outcome(KeyError("order 0x7f00aa11bb22 missing")) == {"type": "builtins.KeyError", "message": "'order <addr> missing'"}


def test_a_row_keeps_the_tables_other_columns() -> None:
    row = {
        "level": "INFO",
        "module": "api",
        "message": "Created",
        "traceback": None,
        "context": '{"order_id": 1}',
        "timestamp": datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc),
        "created_at": None,
        "tenant": "acme",
    }

    assert normalize_row(row) == {
        "level": "INFO",
        "module": "api",
        "message": "Created",
        "traceback": None,
        "context": {"order_id": 1},
        "columns": {"timestamp": "<timestamp>", "created_at": None, "tenant": "acme"},
    }


def test_ids_are_masked_keeping_their_shape_also_in_the_apps_own_format() -> None:
    masked = mask(
        {
            "error_id": "ERR-BFF6FCDB4F9D",
            "trace_id": "abcdef0123456789",
            "event_id": "3f2b8c1e-1111-2222-3333-444455556666",
            "user_id": "alice",
        }
    )
    assert masked == {"error_id": "ERR-<hex12>", "trace_id": "<id>", "event_id": "<uuid>", "user_id": "alice"}
    assert mask({"error_id": "ERR-0123456789AB"}) == mask({"error_id": "ERR-FEDCBA987654"})
    assert mask({"error_id": "ERR-0123456789AB"}) != mask({"error_id": "3f2b8c1e-1111-2222-3333-444455556666"})


def test_a_signed_token_in_a_page_is_masked() -> None:
    page = '<input type="hidden" name="csrf_token" value="IjQwYjNhOTM4OTZjYjNmMzVjNTEyNzM3NjU5N2FmNzQyMmExNDI5NTQi.aw3Thw.jOGXs3aaxAGrbqFawICmuOfA-kI">'
    assert mask(page) == '<input type="hidden" name="csrf_token" value="<signed-token>">'
    assert mask("app.utils.structlog_config") == "app.utils.structlog_config"
