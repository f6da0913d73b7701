"""The one walker (``newlog.sanitize``): which keys are secrets, what any value becomes, and that it never raises.

The walker is a plain callable: these tests call it directly; ``test_redaction`` checks the
same rules through the pipeline (the stored row and the printed line).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders, Headers, MultiDict
from werkzeug.test import EnvironBuilder

from newlog.sanitize import REDACTED, Limits, Sanitizer, Words, mask_url

clean = Sanitizer().clean

# -- which keys are secrets: by word, not by substring -------------------------------------------

REDACTED_KEYS = [
    "password", "PASSWORD", "user_password", "userPassword", "password_hash", "db_password_hash", "password1",
    "passwords", "passwd", "pwd", "userPwd", "passphrase",
    "token", "csrf_token", "access_token", "accessToken", "accesstoken", "refresh-token", "X-Auth-Token",
    "tokens", "XSRF-TOKEN", "csrfmiddlewaretoken",
    "secret", "client_secret", "client-secret", "SECRET_KEY", "otp_secret",
    "authorization", "Authorization", "Proxy-Authorization", "authorization_header",
    "cookie", "Cookie", "cookies", "set_cookie", "Set-Cookie", "session_cookie",
    "session", "session_id", "sessionid", "JSESSIONID", "PHPSESSID",
    "api_key", "apiKey", "APIKey", "apikey", "x-api-key", "X-API-KEY", "api_key_id",
    "private_key", "private_key_pem", "credential", "credentials", "csrf",
]
KEPT_KEYS = [
    "password_length", "password_changed_at", "password_expires_at", "password_policy", "token_count",
    "token_type", "tokens_used", "session_count", "cookie_name", "passwordless", "tokenizer", "author",
    "secretary", "user", "name", "keyboard", "api", "monkey", "tok", "pass", "ssn",
]


@pytest.mark.parametrize("key", REDACTED_KEYS)
def test_a_key_holding_a_secret_is_redacted(key: str) -> None:
    assert clean({key: "hunter2", "other": 1}) == {key: REDACTED, "other": 1}


@pytest.mark.parametrize("key", KEPT_KEYS)
def test_a_key_that_only_describes_a_secret_or_merely_contains_the_letters_is_kept(key: str) -> None:
    assert clean({key: 10}) == {key: 10}


def test_more_words_add_to_the_built_in_ones_with_the_same_word_rules() -> None:
    sanitizer = Sanitizer(Words(["ssn", "card", "password"]))
    assert sanitizer.clean({"ssn": 1, "card_number": 2, "CARD_cvv": 3, "card_count": 4, "discard": 5}) == {
        "ssn": REDACTED, "card_number": REDACTED, "CARD_cvv": REDACTED, "card_count": 4, "discard": 5,
    }


# -- every shape a secret can hide in ------------------------------------------------------------


def test_nested_mappings_and_sequences_are_redacted_at_every_depth() -> None:
    value = {"body": {"user": {"credentials": {"password": "pw"}}}, "users": [{"name": "b", "token": "t"}], "pair": ({"secret": "s"},)}
    assert clean(value) == {
        "body": {"user": {"credentials": REDACTED}},
        "users": [{"name": "b", "token": REDACTED}],
        "pair": [{"secret": REDACTED}],
    }


def test_werkzeug_headers_are_a_mapping_with_every_value_kept() -> None:
    headers = Headers([("Authorization", "Bearer abc"), ("Accept", "a/b"), ("X-Forwarded-For", "1.1.1.1"),
                       ("X-Forwarded-For", "2.2.2.2"), ("Set-Cookie", "sid=1"), ("Set-Cookie", "theme=dark")])
    assert clean(headers) == {
        "Authorization": REDACTED, "Accept": "a/b", "X-Forwarded-For": ["1.1.1.1", "2.2.2.2"], "Set-Cookie": REDACTED,
    }


def test_werkzeug_environ_headers_of_a_request_are_redacted() -> None:
    environ = EnvironBuilder(headers={"Authorization": "Bearer abc", "Cookie": "session=x", "User-Agent": "ua"}).get_environ()
    cleaned = clean(EnvironHeaders(environ))
    assert (cleaned["Authorization"], cleaned["Cookie"], cleaned["User-Agent"]) == (REDACTED, REDACTED, "ua")
    assert "abc" not in json.dumps(cleaned) and "session=x" not in json.dumps(cleaned)


def test_werkzeug_multidict_keeps_every_value_of_a_key() -> None:
    form = MultiDict([("tag", "a"), ("tag", "b"), ("password", "p1"), ("password", "p2"), ("user", "ann")])
    assert clean(form) == {"tag": ["a", "b"], "password": REDACTED, "user": "ann"}


def test_to_dict_is_redacted_while_it_is_converted() -> None:
    class Account:
        def to_dict(self) -> dict[str, Any]:
            return {"id": 7, "password": "pw", "profile": {"api_key": "k", "bio": "hi"}}

    assert clean({"account": Account()}) == {"account": {"id": 7, "password": REDACTED, "profile": {"api_key": REDACTED, "bio": "hi"}}}


def test_a_dataclass_becomes_its_fields_redacted() -> None:
    @dataclasses.dataclass
    class Login:
        user: str
        password: str

    assert clean(Login("ann", "pw")) == {"user": "ann", "password": REDACTED}


def test_bytes_keys_are_decoded_and_matched() -> None:
    assert clean({b"password": "pw", b"user\xff": "ann"}) == {"password": REDACTED, "user\\xff": "ann"}


def test_a_redacted_value_is_never_read() -> None:
    class Trap:
        def __str__(self) -> str:
            raise AssertionError("read")

        def to_dict(self) -> dict[str, Any]:
            raise AssertionError("read")

    assert clean({"token": Trap(), "nested": {"secret": Trap()}}) == {"token": REDACTED, "nested": {"secret": REDACTED}}


# -- URLs: the password and sensitive query parameters ----------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost/login?token=abc&page=2", "http://localhost/login?token=[REDACTED]&page=2"),
        ("https://h/x?a=1&password=p&Api-Key=k&b=&c", "https://h/x?a=1&password=[REDACTED]&Api-Key=[REDACTED]&b=&c"),
        ("https://h/x?access%5Ftoken=t#frag", "https://h/x?access%5Ftoken=[REDACTED]#frag"),
        ("postgresql://app:s3cret@db:5432/prod", "postgresql://app:[REDACTED]@db:5432/prod"),
        ("http://h/x?token_count=3", "http://h/x?token_count=3"),
        ("/reset?token=abc", "/reset?token=[REDACTED]"),
        ("see https://h/cb?code=1&state=2&id_token=xyz now", "see https://h/cb?code=1&state=2&id_token=[REDACTED] now"),
        ("no url here ?token=abc", "no url here ?token=abc"),
    ],
)
def test_secrets_in_urls_are_masked_wherever_a_url_appears(url: str, expected: str) -> None:
    assert clean(url) == expected
    assert clean({"url": url}) == {"url": expected}


def test_mask_url_uses_the_built_in_words_outside_an_app() -> None:
    assert mask_url("http://h/?session=1&q=x") == "http://h/?session=[REDACTED]&q=x"
    assert mask_url(None) is None


# -- any value becomes JSON every database accepts ---------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    __repr__ = __str__


def test_plain_python_values_become_json() -> None:
    assert clean({
        "when": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc), "day": dt.date(2024, 5, 1),
        "colour": Colour.RED, "amount": Decimal("9.99"), "ref": uuid.UUID(int=1), "raw": b"a\xff", "tags": {"b", "a"},
        "pair": (1, 2), "nan": float("nan"), "inf": float("-inf"), "thing": Unprintable(),
    }) == {
        "when": "2024-05-01T12:00:00+00:00", "day": "2024-05-01", "colour": "red", "amount": "9.99",
        "ref": "00000000-0000-0000-0000-000000000001", "raw": "a\\xff", "tags": ["a", "b"], "pair": [1, 2],
        "nan": "nan", "inf": "-inf", "thing": "<unprintable Unprintable: RuntimeError>",
    }


def test_huge_integers_become_text_and_unprintable_ones_a_marker() -> None:
    assert clean(2**63 - 1) == 2**63 - 1
    assert clean(2**70) == str(2**70)
    assert clean(10**5000) == "<int too large to print: 16610 bits>"


def test_cycles_and_shared_references_are_cut_visibly() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    assert clean(loop) == [1, "<cycle: list contains itself>"]
    shared: list[Any] = [0]
    for _ in range(40):  # 2**40 paths through 40 shared lists
        shared = [shared, shared]
    text = json.dumps(clean(shared))
    assert "too many values" in text and len(text) < 2_000_000


def test_limits_cut_strings_containers_and_depth_with_markers() -> None:
    sanitizer = Sanitizer(limits=Limits(max_string=10, max_depth=2, max_items=3))
    assert sanitizer.clean("x" * 25) == "x" * 10 + "...[truncated 15 chars]"
    assert sanitizer.clean(list(range(5))) == [0, 1, 2, "[2 more items]"]
    assert sanitizer.clean({"a": {"b": {"c": 1}}}) == {"a": {"b": "<dict nested deeper than 2>"}}


def test_nul_and_lone_surrogates_are_escaped_in_keys_and_values() -> None:
    assert clean({"k\x00\udcff": "v\x00\udcff"}) == {"k\\x00\\udcff": "v\\x00\\udcff"}


# -- properties -----------------------------------------------------------------------------------


class RaisingToDict:
    def to_dict(self) -> dict[str, Any]:
        raise ValueError("broken")


class ExplodingMapping(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("cannot iterate")


def huge_int() -> int:
    """An integer with more digits than ``str()`` prints (built at draw time: Hypothesis cannot print it either)."""
    return 10**5000


keys = st.one_of(st.text(st.characters(codec=None), max_size=8), st.binary(max_size=6), st.integers(), st.none())
leaves = st.one_of(
    st.none(), st.booleans(), st.floats(), st.text(st.characters(codec=None), max_size=20), st.binary(max_size=20),
    st.integers(), st.sampled_from([2**64, -(2**100)]), st.builds(huge_int), st.decimals(allow_nan=True), st.uuids(),
    st.datetimes(), st.dates(), st.builds(Unprintable), st.builds(RaisingToDict), st.builds(ExplodingMapping),
    st.sampled_from(list(Colour)),
)
values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
        st.lists(st.tuples(st.text(max_size=6), children), max_size=4).map(MultiDict),
    ),
    max_leaves=25,
)


def with_cycles(value: Any, draw_flag: bool) -> Any:
    """Make the first list or dict of ``value`` contain itself."""
    if not draw_flag:
        return value
    if isinstance(value, list):
        value.append(value)
    elif type(value) is dict:
        value["self"] = value
    return value


def strings_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (key, *strings_in(item))]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return [value] if isinstance(value, str) else []


@settings(max_examples=300, deadline=None)
@given(value=values, cyclic=st.booleans())
def test_any_value_becomes_strict_json_every_database_accepts_and_nothing_raises(value: Any, cyclic: bool) -> None:
    cleaned = clean(with_cycles(value, cyclic))
    json.dumps(cleaned, allow_nan=False).encode("utf-8")
    for text in strings_in(cleaned):
        assert "\x00" not in text
        text.encode("utf-8")


SENSITIVE = ["password", "Access_Token", "client-secret", "AUTHORIZATION", "cookies", "ssn", "apiKey", b"pwd"]
HARMLESS = ["name", "id", "items", "note", "author", "tok", "password_length", b"user"]


@st.composite
def payloads(draw: st.DrawFn, depth: int = 0) -> Any:
    """Nested dicts/lists/Headers/MultiDicts whose sensitive keys hold ``SECRET-n`` and other keys ``keep-n`` leaves."""
    counter = draw(st.integers(0, 10**6))
    if depth >= 4 or draw(st.booleans()):
        return f"keep-{counter}"
    shape = draw(st.sampled_from(["list", "dict", "multidict", "to_dict"]))
    if shape == "list":
        return [draw(payloads(depth + 1)) for _ in range(draw(st.integers(0, 3)))]
    pairs = []
    for index, key in enumerate(draw(st.lists(st.sampled_from(SENSITIVE + HARMLESS), max_size=4, unique=True))):
        secret = draw(st.sampled_from([f"SECRET-{counter}-{index}", {"inner": f"SECRET-{counter}-{index}"}, [f"SECRET-{counter}-{index}"]]))
        pairs.append((key, secret if key in SENSITIVE else draw(payloads(depth + 1))))
    if shape == "multidict":
        return MultiDict([(key.decode() if isinstance(key, bytes) else key, item) for key, item in pairs])
    mapping = dict(pairs)
    if shape == "to_dict":
        return type("Model", (), {"to_dict": lambda self: mapping})()
    return mapping


@settings(max_examples=300, deadline=None)
@given(payload=payloads())
def test_no_value_under_a_sensitive_key_survives_at_any_depth(payload: Any) -> None:
    text = json.dumps(Sanitizer(Words([*Words().words, "ssn"])).clean({"payload": payload}))
    assert "SECRET" not in text
