"""The classification rules of a legacy module, read by evaluating ``_classify_error`` branch by branch.

Each ``if`` of the classifier becomes one or more :class:`RuleSpec` (an ``or`` of
conditions is several rules). Branch bodies are evaluated on symbolic values: the error's
attributes, its lowered text, references into the app; an HTTP-exception branch is
evaluated once per status code (100-599) and the codes with the same answer merged into
ranges. Anything outside this small language is ``Unreadable`` and becomes a finding.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from typing import Any

from codemods.legacy_reader.model import LegacyCouplings, OutcomeSpec, Ref, RuleSpec
from codemods.legacy_reader.names import LocalClass, LocalFunction, ModuleNames, Unreadable
from newlog.error_profile import Text

HTTP_EXCEPTION = ("werkzeug.exceptions", "HTTPException")
HTTP_CODES = range(100, 600)


class HttpCode(int):
    """The HTTP code of the error being classified (an int that remembers where it came from)."""


@dataclass(frozen=True)
class ErrorAttr:
    """``error.<name>``, read from the error being classified."""

    name: str


@dataclass(frozen=True)
class Template:
    """An f-string of literal text and the HTTP code: ``errors.http.{code}``."""

    text: str


@dataclass(frozen=True)
class Outcome:
    """The raw fields of a ``return ErrorMetadata(...)`` / ``return {...}``."""

    fields: dict[str, Any]
    line: int


_ERROR_TEXT = object()  # str(error)
_LOWERED_TEXT = object()  # str(error).lower()
_ERROR_NAME = object()  # error.name of an HTTP exception
_UNKNOWN = object()


def body_of(function: ast.FunctionDef) -> list[ast.stmt]:
    """The statements of ``function`` after its docstring."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


def is_not_none_check(test: ast.expr) -> bool:
    """Whether ``test`` is ``<something> is not None``."""
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    )


class RuleReader:
    """Reads the classifier ``enhanced_error_handler`` calls into ``result.rules`` (and the catalogue it uses)."""

    def __init__(self, names: ModuleNames, result: LegacyCouplings) -> None:
        self.names = names
        self.result = result
        self.classifier_name: str | None = None
        self._http_default: int | None = None

    def read(self, handler: ast.FunctionDef) -> None:
        classifier = self._classifier_of(handler)
        if classifier is None:
            self.names.finding(
                handler.lineno, "could not determine the classification function enhanced_error_handler calls"
            )
            return
        self.classifier_name = classifier.name
        locals_: dict[str, Any] = {}
        env: dict[str, Any] = {}
        error = classifier.args.args[0].arg if classifier.args.args else "error"
        rules: list[RuleSpec] = []
        self._read_branches(body_of(classifier), error, env, locals_, rules)
        if not rules or rules[-1].classes or rules[-1].codes or rules[-1].words or rules[-1].outcome is None:
            self.names.finding(
                classifier.lineno,
                f"could not determine the final answer of {classifier.name} (no unconditional return)",
            )
        self.result.rules = tuple(rules)

    def _classifier_of(self, handler: ast.FunctionDef) -> ast.FunctionDef | None:
        for node in ast.walk(handler):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
            ):
                callee = self.names.function(node.value.func.id)
                if (
                    callee is not None
                    and callee is not handler
                    and any(isinstance(arg, ast.Name) and arg.id == handler.args.args[0].arg for arg in node.value.args)
                ):
                    return callee
        return None

    def _read_branches(
        self, body: list[ast.stmt], error: str, env: dict[str, Any], locals_: dict[str, Any], rules: list[RuleSpec]
    ) -> None:
        for statement in body:
            try:
                if isinstance(statement, ast.Import | ast.ImportFrom):
                    self.names.bind_import(statement, locals_)
                elif isinstance(statement, ast.Try):
                    for inner in statement.body:
                        if isinstance(inner, ast.Import | ast.ImportFrom):
                            self.names.bind_import(inner, locals_)
                        else:
                            raise Unreadable("could not read a try block other than imports", inner.lineno)
                elif isinstance(statement, ast.Assign | ast.AnnAssign):
                    self._assign(statement, error, env, locals_, code=None)
                elif isinstance(statement, ast.If):
                    self._read_if(statement, error, env, locals_, rules)
                elif isinstance(statement, ast.Return):
                    rules.append(self._rule(statement.lineno, [statement], error, env, locals_, classes=(), words=()))
                    return
                elif isinstance(statement, ast.Expr | ast.Pass):
                    continue
                else:
                    raise Unreadable(f"could not read a {type(statement).__name__} statement", statement.lineno)
            except Unreadable as problem:
                self.names.finding(problem.line, f"could not determine the classification: {problem}")

    def _read_if(
        self, statement: ast.If, error: str, env: dict[str, Any], locals_: dict[str, Any], rules: list[RuleSpec]
    ) -> None:
        alternatives = self._condition(statement.test, error, env, locals_)
        if not statement.body or not isinstance(statement.body[-1], ast.Return):
            raise Unreadable("could not read a branch that does not end with 'return'", statement.lineno)
        for classes, words in alternatives:
            http = any((ref.module, ref.name) == HTTP_EXCEPTION for ref in classes)
            if http:
                rules.extend(self._http_rules(statement, classes, words, error, env, locals_))
            else:
                rules.append(
                    self._rule(statement.lineno, statement.body, error, env, locals_, classes=classes, words=words)
                )
        if statement.orelse:
            self._read_branches(statement.orelse, error, env, locals_, rules)

    def _condition(
        self, test: ast.expr, error: str, env: dict[str, Any], locals_: dict[str, Any]
    ) -> list[tuple[tuple[Ref, ...], tuple[str, ...]]]:
        """The test as alternatives (OR) of (classes, words) conjunctions."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
            alternatives = [alt for value in test.values for alt in self._condition(value, error, env, locals_)]
            words_only = [alt for alt in alternatives if not alt[0]]
            rest = [alt for alt in alternatives if alt[0]]
            if len(words_only) > 1:  # "a" in text or "b" in text: one rule with both words
                rest.append(((), tuple(word for _, words in words_only for word in words)))
                return rest
            return alternatives
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            classes: tuple[Ref, ...] = ()
            words: tuple[str, ...] = ()
            for value in test.values:
                if is_not_none_check(value):
                    continue
                parts = self._condition(value, error, env, locals_)
                if len(parts) != 1:
                    raise Unreadable("could not read an 'and' of alternatives", test.lineno)
                classes, words = classes + parts[0][0], words + parts[0][1]
            return [(classes, words)]
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id == "isinstance"
            and len(test.args) == 2
        ):
            if not (isinstance(test.args[0], ast.Name) and test.args[0].id == error):
                raise Unreadable(f"could not read isinstance() of something other than {error}", test.lineno)
            kinds = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
            refs = []
            for kind in kinds:
                value = self.evaluate(kind, error, env, locals_, code=None)
                if not isinstance(value, Ref):
                    raise Unreadable(f"could not resolve the class {ast.unparse(kind)}", kind.lineno)
                refs.append(value)
            return [(tuple(refs), ())]
        if (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.In)
            and isinstance(test.left, ast.Constant)
        ):
            haystack = self.evaluate(test.comparators[0], error, env, locals_, code=None)
            if haystack is _ERROR_TEXT:
                raise Unreadable("could not use a case-sensitive word match (str(error) without .lower())", test.lineno)
            if haystack is not _LOWERED_TEXT:
                raise Unreadable(f"could not read the word test {ast.unparse(test)}", test.lineno)
            return [((), (str(test.left.value),))]
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id == "any"
            and len(test.args) == 1
            and isinstance(test.args[0], ast.GeneratorExp)
        ):
            generator = test.args[0]
            element, loop = generator.elt, generator.generators[0]
            if (
                isinstance(element, ast.Compare)
                and isinstance(element.left, ast.Name)
                and isinstance(loop.target, ast.Name)
                and element.left.id == loop.target.id
                and self.evaluate(element.comparators[0], error, env, locals_, code=None) is _LOWERED_TEXT
            ):
                words = self.evaluate(loop.iter, error, env, locals_, code=None)
                if isinstance(words, tuple | list) and all(isinstance(word, str) for word in words):
                    return [((), tuple(words))]
        raise Unreadable(f"could not read the condition {ast.unparse(test)}", test.lineno)

    def _rule(
        self,
        line: int,
        body: list[ast.stmt],
        error: str,
        env: dict[str, Any],
        locals_: dict[str, Any],
        *,
        classes: tuple[Ref, ...],
        words: tuple[str, ...],
    ) -> RuleSpec:
        outcome = self._run(body, error, dict(env), locals_, code=None)
        return RuleSpec(line, self._outcome_spec(outcome, code=None), classes, None, words)

    def _http_rules(
        self,
        statement: ast.If,
        classes: tuple[Ref, ...],
        words: tuple[str, ...],
        error: str,
        env: dict[str, Any],
        locals_: dict[str, Any],
    ) -> list[RuleSpec]:
        by_code: list[tuple[int, OutcomeSpec | None]] = []
        self._http_default = None
        for number in HTTP_CODES:
            outcome = self._run(statement.body, error, dict(env), locals_, code=HttpCode(number))
            by_code.append((number, self._outcome_spec(outcome, code=HttpCode(number))))
        if self._http_default is not None:
            self.result.http_default_code = self._http_default
        rules: list[RuleSpec] = []
        start, current = by_code[0]
        previous = start
        for number, spec in by_code[1:] + [(HTTP_CODES.stop, object())]:  # type: ignore[list-item]
            if spec != current:
                rules.append(RuleSpec(statement.lineno, current, classes, (start, previous), words))
                start, current = number, spec
            previous = number
        return rules

    def _run(
        self, body: list[ast.stmt], error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None
    ) -> Outcome:
        outcome = self._execute(body, error, env, locals_, code)
        if outcome is None:
            raise Unreadable("could not find the branch's return", body[-1].lineno if body else 0)
        return outcome

    def _execute(
        self, body: list[ast.stmt], error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None
    ) -> Outcome | None:
        """Run ``body`` on ``env``; return what it returns, None if it falls through."""
        for statement in body:
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                self._assign(statement, error, env, locals_, code)
            elif isinstance(statement, ast.If):
                test = self.evaluate(statement.test, error, env, locals_, code)
                if not isinstance(test, bool | int):
                    raise Unreadable(
                        f"could not evaluate the condition {ast.unparse(statement.test)}", statement.lineno
                    )
                outcome = self._execute(statement.body if test else statement.orelse, error, env, locals_, code)
                if outcome is not None:
                    return outcome
            elif isinstance(statement, ast.Return) and statement.value is not None:
                value = self.evaluate(statement.value, error, env, locals_, code)
                if not isinstance(value, Outcome):
                    raise Unreadable(
                        f"could not read the returned value {ast.unparse(statement.value)}", statement.lineno
                    )
                return value
            elif not isinstance(statement, ast.Pass | ast.Expr):
                raise Unreadable(f"could not read a {type(statement).__name__} statement in a branch", statement.lineno)
        return None

    def _assign(
        self,
        statement: ast.Assign | ast.AnnAssign,
        error: str,
        env: dict[str, Any],
        locals_: dict[str, Any],
        code: HttpCode | None,
    ) -> None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if statement.value is None:
            return
        value = self.evaluate(statement.value, error, env, locals_, code)
        for target in targets:
            if isinstance(target, ast.Name):
                env[target.id] = value
            elif isinstance(target, ast.Tuple) and isinstance(value, tuple) and len(value) == len(target.elts):
                for element, item in zip(target.elts, value, strict=True):
                    if not isinstance(element, ast.Name):
                        raise Unreadable(f"could not read the assignment to {ast.unparse(element)}", statement.lineno)
                    env[element.id] = item
            else:
                raise Unreadable(f"could not read the assignment to {ast.unparse(target)}", statement.lineno)

    def _lookup(self, name: str, env: dict[str, Any], locals_: dict[str, Any], line: int) -> Any:
        if name in env:
            return env[name]
        if name in locals_:
            return locals_[name]
        bound = self.names.bindings.get(name, _UNKNOWN)
        if isinstance(bound, tuple) and bound and bound[0] == "assign":
            return self.evaluate(bound[1], "", {}, {}, code=None)
        if bound is not _UNKNOWN:
            return bound
        if hasattr(builtins, name):
            return Ref("builtins", name)
        raise Unreadable(f"could not resolve the name {name}", line)

    def evaluate(
        self, node: ast.expr, error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None
    ) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id == error:
                return ErrorAttr("")
            return self._lookup(node.id, env, locals_, line)
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(self.evaluate(element, error, env, locals_, code) for element in node.elts)
        if isinstance(node, ast.Attribute):
            base = self.evaluate(node.value, error, env, locals_, code)
            if base == ErrorAttr(""):
                if node.attr == "code":
                    if code is None:
                        raise Unreadable("could not read error.code outside an HTTP exception branch", line)
                    return code
                if node.attr == "description":
                    return Text.DESCRIPTION
                if node.attr == "name":
                    return _ERROR_NAME
                return ErrorAttr(node.attr)
            if isinstance(base, Ref):
                return self.names.normalized(base.attribute(node.attr))
            if isinstance(base, LocalClass):
                if node.attr in base.constants:
                    return base.constants[node.attr]
                raise Unreadable(f"could not read {base.name}.{node.attr}", line)
            if base is _ERROR_TEXT and node.attr == "lower":
                return "lower"
            raise Unreadable(f"could not read the attribute {ast.unparse(node)}", line)
        if isinstance(node, ast.BoolOp):
            values = [self.evaluate(value, error, env, locals_, code) for value in node.values]
            if isinstance(node.op, ast.Or):
                if values[:2] == [Text.DESCRIPTION, _ERROR_NAME] and len(values) == 2:
                    return Text.DESCRIPTION_OR_NAME
                if isinstance(values[0], HttpCode) and len(values) == 2:
                    default = values[1]
                    self._http_default = self._as_int(default, line)
                    return values[0]
                for value in values:
                    if not isinstance(value, bool | int | str | type(None)):
                        raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)
                    if value:
                        return value
                return values[-1]
            result: Any = True
            for value in values:
                if not isinstance(value, bool | int | str | type(None)):
                    raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)
                result = value
                if not value:
                    return value
            return result
        if isinstance(node, ast.IfExp):
            test = self.evaluate(node.test, error, env, locals_, code)
            if not isinstance(test, bool | int):
                raise Unreadable(f"could not evaluate the condition of {ast.unparse(node)}", line)
            return self.evaluate(node.body if test else node.orelse, error, env, locals_, code)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            value = self.evaluate(node.operand, error, env, locals_, code)
            if not isinstance(value, bool | int):
                raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)
            return not value
        if isinstance(node, ast.Compare):
            return self._compare(node, error, env, locals_, code)
        if isinstance(node, ast.JoinedStr):
            text = ""
            for part in node.values:
                if isinstance(part, ast.Constant):
                    text += str(part.value).replace("{", "{{").replace("}", "}}")
                elif isinstance(part, ast.FormattedValue) and isinstance(
                    self.evaluate(part.value, error, env, locals_, code), HttpCode
                ):
                    if part.format_spec is not None or part.conversion != -1:
                        raise Unreadable(f"could not read the format of {ast.unparse(node)}", line)
                    text += "{code}"
                else:
                    raise Unreadable(f"could not read the f-string {ast.unparse(node)}", line)
            return Template(text)
        if isinstance(node, ast.Dict):
            fields = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                    raise Unreadable(f"could not read the dict {ast.unparse(node)}", line)
                fields[key.value] = self.evaluate(value, error, env, locals_, code)
            return Outcome(fields, line)
        if isinstance(node, ast.Call):
            return self._call(node, error, env, locals_, code)
        raise Unreadable(f"could not evaluate {ast.unparse(node)}", line)

    def _as_int(self, value: Any, line: int) -> int:
        if isinstance(value, Ref):
            value = self.names.constant(value, line)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Unreadable(f"could not read {value!r} as a status code", line)
        return int(value)

    def _compare(
        self, node: ast.Compare, error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None
    ) -> bool:
        left = self.evaluate(node.left, error, env, locals_, code)
        for operator, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.evaluate(comparator, error, env, locals_, code)
            if isinstance(operator, ast.In | ast.NotIn):
                if not isinstance(right, tuple):
                    raise Unreadable(f"could not evaluate {ast.unparse(node)}", node.lineno)
                if isinstance(left, int) and not isinstance(left, bool):
                    right = tuple(self._as_int(item, node.lineno) if isinstance(item, Ref) else item for item in right)
                result = left in right
                result = result if isinstance(operator, ast.In) else not result
            elif isinstance(operator, ast.Is | ast.IsNot):
                result = (left is right) if isinstance(operator, ast.Is) else (left is not right)
            else:
                a, b = left, right
                if isinstance(a, int) and isinstance(b, Ref):
                    b = self._as_int(b, node.lineno)
                if isinstance(b, int) and isinstance(a, Ref):
                    a = self._as_int(a, node.lineno)
                if isinstance(operator, ast.Eq | ast.NotEq):
                    result = a == b if isinstance(operator, ast.Eq) else a != b
                elif isinstance(a, int) and isinstance(b, int):
                    result = {ast.Lt: a < b, ast.LtE: a <= b, ast.Gt: a > b, ast.GtE: a >= b}[type(operator)]
                else:
                    raise Unreadable(f"could not evaluate {ast.unparse(node)}", node.lineno)
            if not result:
                return False
            left = right
        return True

    def _call(
        self, node: ast.Call, error: str, env: dict[str, Any], locals_: dict[str, Any], code: HttpCode | None
    ) -> Any:
        line = node.lineno
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "lower" and not node.args:
            if self.evaluate(func.value, error, env, locals_, code) is _ERROR_TEXT:
                return _LOWERED_TEXT
        if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1:
            if self.evaluate(node.args[0], error, env, locals_, code) == ErrorAttr(""):
                return _ERROR_TEXT
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) in (2, 3):
            return self._catalogue_lookup(node.args, error, env, locals_, code, line)
        callee = self.evaluate(func, error, env, locals_, code)
        args = [self.evaluate(arg, error, env, locals_, code) for arg in node.args]
        kwargs = {
            keyword.arg: self.evaluate(keyword.value, error, env, locals_, code)
            for keyword in node.keywords
            if keyword.arg
        }
        if isinstance(callee, LocalClass) and callee.fields:
            if len(args) > len(callee.fields):
                raise Unreadable(f"could not match the arguments of {callee.name}(...)", line)
            return Outcome({**dict(zip(callee.fields, args, strict=False)), **kwargs}, line)
        if isinstance(callee, Ref) and callee.name.rpartition(".")[2] == "ErrorMetadata" and not args:
            return Outcome(kwargs, line)
        if isinstance(callee, LocalFunction):
            looked_up = self._catalogue_function(callee.node, args, kwargs, line)
            if looked_up is not None:
                return looked_up
            if len(args) == 1 and isinstance(args[0], ErrorAttr) and not kwargs:
                return args[0]  # a conversion such as _as_str(error.category)
        if len(args) == 1 and isinstance(args[0], ErrorAttr) and not kwargs and isinstance(callee, Ref):
            return args[0]  # a conversion such as ErrorCategory(error.category)
        raise Unreadable(f"could not evaluate the call {ast.unparse(node)}", line)

    def _catalogue_lookup(
        self,
        nodes: list[ast.expr],
        error: str,
        env: dict[str, Any],
        locals_: dict[str, Any],
        code: HttpCode | None,
        line: int,
    ) -> Text:
        catalogue = self.evaluate(nodes[0], error, env, locals_, code)
        key = self.evaluate(nodes[1], error, env, locals_, code)
        if not isinstance(catalogue, Ref) or not isinstance(key, str):
            raise Unreadable(
                f"could not read the message lookup getattr({', '.join(ast.unparse(n) for n in nodes)})", line
            )
        self._record_catalogue(catalogue, line)
        if len(nodes) == 3:
            default = self.evaluate(nodes[2], error, env, locals_, code)
            self._record_catalogue_default(default, line)
        return Text.catalogue(key)

    def _catalogue_function(
        self, function: ast.FunctionDef, args: list[Any], kwargs: dict[str, Any], line: int
    ) -> Text | None:
        """``def _get_message(key): return getattr(Catalogue, key, default)`` called with a literal key."""
        body = body_of(function)
        if len(body) != 1 or not isinstance(body[0], ast.Return) or not isinstance(body[0].value, ast.Call):
            return None
        call = body[0].value
        if not (isinstance(call.func, ast.Name) and call.func.id == "getattr" and len(call.args) in (2, 3)):
            return None
        params = [arg.arg for arg in function.args.args]
        bound = {**dict(zip(params, args, strict=False)), **kwargs}
        if not (isinstance(call.args[1], ast.Name) and call.args[1].id in bound):
            return None
        env = {name: value for name, value in bound.items()}
        return self._catalogue_lookup(call.args, "", env, {}, None, line)

    def _record_catalogue(self, catalogue: Ref, line: int) -> None:
        if self.result.catalogue is None:
            self.result.catalogue = catalogue
        elif self.result.catalogue != catalogue:
            self.names.finding(
                line,
                f"could not determine the one message catalogue: {self.result.catalogue} and {catalogue} are both used",
            )

    def _record_catalogue_default(self, default: Any, line: int) -> None:
        if (
            isinstance(default, Ref)
            and self.result.catalogue is not None
            and default.module == self.result.catalogue.module
        ):
            owner, _, key = default.name.rpartition(".")
            if owner == self.result.catalogue.name:
                text = Text.catalogue(key)
            else:
                self.names.finding(line, f"could not read the catalogue's default message {default}")
                return
        elif isinstance(default, str):
            text = Text.literal(default)
        else:
            self.names.finding(line, f"could not read the catalogue's default message {default!r}")
            return
        if self.result.catalogue_default not in (None, text):
            self.names.finding(line, "could not determine the one default message of the catalogue (two are used)")
        self.result.catalogue_default = text

    def _outcome_spec(self, outcome: Outcome, code: HttpCode | None) -> OutcomeSpec | None:
        fields = outcome.fields
        names = ("status_code", "category", "severity", "message", "recoverable")
        missing = [name for name in names if name not in fields]
        if missing:
            raise Unreadable(f"could not find {', '.join(missing)} in the returned metadata", outcome.line)
        if all(fields[name] == ErrorAttr(name) for name in names):
            if "message_key" in fields and fields["message_key"] != ErrorAttr("message_key"):
                raise Unreadable(
                    "could not read a base-error branch whose message_key is not the error's own", outcome.line
                )
            return None
        if any(isinstance(fields[name], ErrorAttr) for name in fields):
            raise Unreadable("could not read a branch mixing the error's attributes with fixed values", outcome.line)
        status = fields["status_code"]
        if isinstance(status, HttpCode):
            status = None
        elif not isinstance(status, int | Ref) or isinstance(status, bool):
            raise Unreadable(f"could not read the status {status!r}", outcome.line)
        key = fields.get("message_key")
        if isinstance(key, Template):
            key = key.text
        elif isinstance(key, str):
            key = key.replace("{", "{{").replace("}", "}}") if code is not None else key
        elif key is not None:
            raise Unreadable(f"could not read the message key {key!r}", outcome.line)
        message = fields["message"]
        if isinstance(message, str):
            message = Text.literal(message)
        elif message is _ERROR_TEXT:
            message = Text.ERROR
        elif (
            isinstance(message, Ref)
            and self.result.catalogue is not None
            and message.name.startswith(self.result.catalogue.name + ".")
        ):
            message = Text.catalogue(message.name.rpartition(".")[2])
        elif not isinstance(message, Text):
            raise Unreadable(f"could not read the message {message!r}", outcome.line)
        recoverable = fields["recoverable"]
        if not isinstance(recoverable, bool):
            raise Unreadable(f"could not read recoverable {recoverable!r}", outcome.line)
        for name in ("category", "severity"):
            if not isinstance(fields[name], Ref | str):
                raise Unreadable(f"could not read the {name} {fields[name]!r}", outcome.line)
        return OutcomeSpec(status, fields["category"], fields["severity"], key, message, recoverable)

    def resolve_enums(self) -> None:
        """The enums are the owners of the rules' category / severity members (plain strings: the module's own)."""
        outcomes = [rule.outcome for rule in self.result.rules if rule.outcome is not None]
        for role, attribute in (("category_enum", "category"), ("severity_enum", "severity")):
            owners = {
                Ref(value.module, value.name.rpartition(".")[0])
                for value in (getattr(outcome, attribute) for outcome in outcomes)
                if isinstance(value, Ref) and "." in value.name
            }
            plain = any(isinstance(getattr(outcome, attribute), str) for outcome in outcomes)
            if len(owners) == 1 and not plain:
                setattr(self.result, role, owners.pop())
            elif owners:
                self.names.finding(
                    1,
                    f"could not determine the one {attribute} enum: {sorted(map(str, owners))}"
                    + (" and plain values" if plain else ""),
                )
        base = [rule.classes for rule in self.result.rules if rule.outcome is None]
        if len(base) == 1 and len(base[0]) == 1:
            self.result.base_error = base[0][0]
        elif len(base) > 1:
            self.names.finding(
                1, "could not determine the one base error (several branches read the error's attributes)"
            )
