"""audit_log(action): one stored event per call, for functions, methods and coroutines."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import re
import time
from typing import Any

import pytest

import newlog
from newlog.audit import MAX_ARGUMENT_CHARS, MAX_ARGUMENTS_CHARS
from tests.support import stored_rows as stored


def only_row(app: Any) -> dict[str, Any]:
    rows = stored(app)
    assert len(rows) == 1, rows
    return rows[0]


@newlog.audit_log("user.delete")
def delete_user(user_id: int, *, hard: bool = False) -> str:
    time.sleep(0.02)
    return f"deleted {user_id}"


@newlog.audit_log("user.ban")
def ban_user(user_id: int) -> None:
    raise PermissionError(f"cannot ban {user_id}")


def test_a_successful_call_is_stored_even_above_the_db_level(make_app) -> None:
    app = make_app(LOG_DB_LEVEL="CRITICAL")

    assert delete_user(42, hard=True) == "deleted 42"

    row = only_row(app)
    assert (row["level"], row["module"], row["message"]) == ("INFO", "audit", "user.delete")
    context = row["context"]
    assert context["action"] == "user.delete"
    assert context["status"] == "success"
    assert context["arguments"] == {"user_id": 42, "hard": True}
    assert context["function"].endswith("test_audit.delete_user")
    assert 19 <= context["duration_ms"] < 5000
    assert "error_type" not in context
    assert "persist" not in context


def test_a_failed_call_is_stored_and_the_exception_re_raised(make_app) -> None:
    app = make_app()

    with pytest.raises(PermissionError, match="cannot ban 7") as caught:
        ban_user(7)

    assert caught.traceback[-1].name == "ban_user"
    row = only_row(app)
    assert (row["level"], row["message"]) == ("WARNING", "user.ban")
    assert row["context"]["status"] == "failed"
    assert row["context"]["error_type"] == "PermissionError"
    assert row["context"]["arguments"] == {"user_id": 7}
    assert row["context"]["duration_ms"] >= 0


def test_coroutines_are_audited_on_success_and_failure(make_app) -> None:
    app = make_app()

    @newlog.audit_log("report.build")
    async def build_report(name: str) -> str:
        await asyncio.sleep(0.02)
        if name == "broken":
            raise LookupError(name)
        return name.upper()

    async def main() -> str:
        result = await build_report("weekly")
        with pytest.raises(LookupError):
            await build_report("broken")
        return result

    assert inspect.iscoroutinefunction(build_report)
    assert asyncio.run(main()) == "WEEKLY"

    rows = stored(app)
    assert [(row["context"]["status"], row["context"]["arguments"]) for row in rows] == [
        ("success", {"name": "weekly"}),
        ("failed", {"name": "broken"}),
    ]
    assert rows[1]["context"]["error_type"] == "LookupError"
    assert all(row["context"]["duration_ms"] >= 19 for row in rows)


def test_a_cancelled_coroutine_is_recorded_as_failed(make_app) -> None:
    app = make_app()

    @newlog.audit_log("sync.run")
    async def long_sync() -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        task = asyncio.create_task(long_sync())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())

    context = only_row(app)["context"]
    assert (context["status"], context["error_type"]) == ("failed", "CancelledError")


class Accounts:
    """Methods of every kind, audited."""

    def __init__(self) -> None:
        self.closed: list[int] = []

    @newlog.audit_log("account.close")
    def close(self, account_id: int, reason: str = "") -> int:
        self.closed.append(account_id)
        return len(self.closed)

    @classmethod
    @newlog.audit_log("account.open")
    def open(cls, owner: str) -> str:
        return f"{cls.__name__}:{owner}"

    @newlog.audit_log("account.check")
    @staticmethod
    def check(number: str) -> bool:
        return number.isdigit()

    @newlog.audit_log("account.merge")
    @classmethod
    def merge(cls, *ids: int, **options: Any) -> int:
        return len(ids)


def test_methods_record_their_arguments_without_self_or_cls(make_app) -> None:
    app = make_app()
    accounts = Accounts()

    assert accounts.close(3, reason="moved") == 1
    assert Accounts.open("ann") == "Accounts:ann"
    assert Accounts.check("123") is True
    assert accounts.merge(1, 2, 3, dry_run=True) == 3

    assert accounts.closed == [3]
    assert [(row["message"], row["context"]["arguments"]) for row in stored(app)] == [
        ("account.close", {"account_id": 3, "reason": "moved"}),
        ("account.open", {"owner": "ann"}),
        ("account.check", {"number": "123"}),
        ("account.merge", {"ids": [1, 2, 3], "dry_run": True}),
    ]


def test_sensitive_arguments_are_redacted_by_name_at_any_depth(make_app, capsys) -> None:
    app = make_app(LOG_RENDERER="json", LOG_REDACT_KEYS="ssn,iban")

    @newlog.audit_log("user.update")
    def update_user(user_id: int, password: str, profile: dict[str, Any], **changes: Any) -> None:
        return None

    update_user(
        5,
        "hunter2",
        {"name": "Ann", "ssn": "078-05-1120", "tokens": ["t1"], "nested": [{"api_token": "abc"}]},
        iban="DE89370400440532013000",
        email="ann@example.com",
    )

    arguments = only_row(app)["context"]["arguments"]
    assert arguments == {
        "user_id": 5,
        "password": "[REDACTED]",
        "profile": {
            "name": "Ann",
            "ssn": "[REDACTED]",
            "tokens": "[REDACTED]",
            "nested": [{"api_token": "[REDACTED]"}],
        },
        "iban": "[REDACTED]",
        "email": "ann@example.com",
    }
    out = capsys.readouterr().out
    for secret in ("hunter2", "078-05-1120", "DE89370400440532013000", "abc", "t1"):
        assert secret not in out


def test_a_redacted_value_is_never_read(make_app) -> None:
    app = make_app()
    reads: list[str] = []

    class Secret:
        def __str__(self) -> str:
            reads.append("str")
            return "s3cr3t"

        def to_dict(self) -> dict[str, str]:
            reads.append("to_dict")
            return {"value": "s3cr3t"}

    @newlog.audit_log("vault.write")
    def write(path: str, secret: Secret, options: dict[str, Any]) -> None:
        return None

    write("/kv/app", Secret(), {"auth_token": Secret(), "ttl": 60})

    assert reads == []
    assert only_row(app)["context"]["arguments"] == {
        "path": "/kv/app",
        "secret": "[REDACTED]",
        "options": {"auth_token": "[REDACTED]", "ttl": 60},
    }


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


class Customer:
    def __init__(self, ident: int) -> None:
        self.ident = ident

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.ident, "card_secret": "4111"}


def test_arguments_are_json_safe_and_bounded(make_app) -> None:
    app = make_app()

    @newlog.audit_log("import.run")
    def run_import(*args: Any, **kwargs: Any) -> None:
        return None

    run_import(
        dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc),
        {3, 1},
        Customer(9),
        Unprintable(),
        b"\x00\xff" * 10_000,
        "x" * 100_000,
        list(range(10_000)),
        blob="y" * 5000,
        tree={"a": {"b": {"c": {"d": {"e": 1}}}}},
        many=list(range(10_000)),
    )

    arguments = only_row(app)["context"]["arguments"]
    args = arguments["args"]
    assert args[:5] == [
        "2024-05-01T12:00:00+00:00",
        [1, 3],
        {"id": 9, "card_secret": "[REDACTED]"},
        "<unprintable Unprintable: RuntimeError>",
        "<20000 bytes>",
    ]
    assert args[5].startswith("xxx") and args[5].endswith("chars]")
    assert args[-1] == "[1 more items]"
    assert arguments["tree"] == {"a": {"b": {"c": {"d": "<dict nested deeper than 4>"}}}}
    assert arguments["many"][:3] == [0, 1, 2] and arguments["many"][-1] == "[9950 more items]"
    assert re.fullmatch(r"y{900,1000}\.\.\.\[truncated 4\d\d\d chars\]", arguments["blob"])
    assert len(json.dumps(args)) < MAX_ARGUMENT_CHARS + 200
    assert len(json.dumps(arguments)) < MAX_ARGUMENTS_CHARS


def test_every_argument_shares_one_size_budget(make_app) -> None:
    app = make_app()

    @newlog.audit_log("bulk.load")
    def load(**columns: Any) -> None:
        return None

    load(**{f"column_{index}": "z" * 2000 for index in range(20)})

    arguments = only_row(app)["context"]["arguments"]
    assert len(arguments) == 20
    assert arguments["column_19"] == f"<omitted: arguments over {MAX_ARGUMENTS_CHARS} chars>"
    assert len(json.dumps(arguments)) < MAX_ARGUMENTS_CHARS + 20 * 100
    assert all(isinstance(value, str) for value in arguments.values())


def test_arguments_false_records_none(make_app) -> None:
    app = make_app()

    @newlog.audit_log("key.rotate", arguments=False)
    def rotate(material: bytes) -> None:
        return None

    rotate(b"private")

    context = only_row(app)["context"]
    assert "arguments" not in context
    assert context["status"] == "success"


def test_a_call_with_wrong_arguments_still_raises_and_is_audited(make_app) -> None:
    app = make_app()

    with pytest.raises(TypeError):
        delete_user(1, 2, 3)

    context = only_row(app)["context"]
    assert (context["status"], context["error_type"]) == ("failed", "TypeError")
    assert context["arguments"] == {"args": [1, 2, 3]}


def test_inside_a_request_the_audit_event_carries_the_request_id(make_app) -> None:
    app = make_app()

    @app.post("/users/<int:user_id>/delete")
    def delete(user_id: int) -> str:
        return delete_user(user_id)

    response = app.test_client().post("/users/8/delete", headers={"X-Request-ID": "req-audit-1"})

    assert response.status_code == 200
    context = only_row(app)["context"]
    assert context["request_id"] == "req-audit-1"
    assert context["arguments"] == {"user_id": 8}


def test_the_decorated_function_keeps_its_name_and_signature() -> None:
    assert delete_user.__name__ == "delete_user"
    assert str(inspect.signature(delete_user)) == "(user_id: 'int', *, hard: 'bool' = False) -> 'str'"


def test_misuse_is_reported_at_decoration_time() -> None:
    with pytest.raises(TypeError, match=r'write @audit_log\("user.delete"\), not @audit_log'):
        newlog.audit_log(delete_user)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot time the generator function"):

        @newlog.audit_log("rows.stream")
        def stream() -> Any:
            yield 1


def test_audit_works_before_any_app_is_initialised(capsys) -> None:
    delete_user(1)

    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (line["event"], line["status"], line["arguments"]) == ("user.delete", "success", {"user_id": 1})
