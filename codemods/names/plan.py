"""Moving legacy names to newlog: the engine behind the ``imports`` rule, shared with the other rules.

``migrate_names(state, rule, selected)`` decides, for every legacy name ``selected`` accepts,
what it is imported as from newlog, renames its uses, turns ``module.name`` into
``newlog.<new>`` and rewrites dotted-path strings, right away. The import statements are
rewritten once, by ``finish`` at the end of the run, from the decisions every rule recorded
(keyed by legacy name and local name): so rules that own a few names (global-context,
debug-guard) and the imports rule that owns the rest produce one import statement, in the
original order, whatever subset of the rules runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods.engine import IMPORT_LINE, FileState, Pruned, word_pattern
from codemods.names.legacy import (
    LegacyImports,
    ModuleBinding,
    NameBinding,
    Uses,
    collect,
    declares_all,
    find_module_uses,
    find_uses,
    mentioned,
    occurrences,
    only_loads,
    other_root_uses,
    reexported,
)
from codemods.names.placement import Style, clean_comment, is_import_line, place
from codemods.names.profile_args import NO_PROFILE, UNSURE, with_profile
from codemods.names.statements import (
    AliasSpec,
    _NameCounter,
    alias_spec,
    dotted_expr,
    drop_unused,
    from_import_line,
    insertion_index,
    local_name,
    make_alias,
    select_aliases,
    unused_names,
)
from compat.mapping import NAMES, NEW_MODULE

IMPORTS_RULE = "imports"
"""The rule that owns every name not owned by another rule; it alone reports what it leaves."""

_INIT_NAMES = ("configure_structlog", "structlog_config")
"""Legacy names whose calls become ``init_app`` calls (``codemods.names.profile_args``)."""

_DYNAMIC = re.compile(r"\b(?:globals|locals|vars|eval|exec)\s*\(|\b__getattr__\b")


@dataclass
class ModuleStatus:
    """How the uses of one module binding went: converted by some rule, left by the last rule that looked."""

    converted: int = 0
    left: int = 0
    rules: list[str] = field(default_factory=list)
    """The rules that converted uses of it."""


@dataclass
class Migration:
    """Decisions recorded by the rules, applied to the import statements by ``finish``."""

    specs: dict[tuple[str, str], tuple[AliasSpec, str]] = field(default_factory=dict)
    """(legacy name, local name) -> (newlog alias, rule that decided it)."""
    modules: dict[str, ModuleStatus] = field(default_factory=dict)
    """Module binding key (local name, or dotted chain of a plain import) -> status."""
    stars: list[AliasSpec] | None | bool = False
    """Explicit names for ``from L import *``; None for ``from newlog import *``; False: undecided."""
    rules: list[str] = field(default_factory=list)
    """The rules that took part, in the order they ran (an import statement's edit counts for the first)."""

    def first(self, rules: set[str]) -> str:
        """The earliest of ``rules`` to run."""
        return min(rules, key=lambda rule: self.rules.index(rule) if rule in self.rules else len(self.rules))


def migration(state: FileState) -> Migration:
    """The decisions the rules recorded for this file (created on first use)."""
    if state.migration is None:
        state.migration = Migration()
    return state.migration  # type: ignore[return-value]


# -- planning and uses (one rule at a time) -------------------------------------------------------------


@dataclass
class _Plan:
    renames_by_name: dict[str, str] = field(default_factory=dict)
    renames_by_id: dict[int, str] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)
    module_keys: dict[int, str] = field(default_factory=dict)
    """id(module reference node) -> binding key (scope analysis)."""
    module_names: dict[str, str] = field(default_factory=dict)
    """local name -> binding key (textual gate: every ``Name`` with that value)."""
    module_chains: dict[str, str] = field(default_factory=dict)
    """dotted path -> binding key (textual gate, plain imports: every ``a.b.c`` attribute chain)."""
    init_names: dict[str, str] = field(default_factory=dict)
    """Local name -> ``configure_structlog`` or ``structlog_config`` (the instance), when every use of
    the name means the legacy import (textual gate): its calls get the profile keywords."""
    init_ids: dict[int, str] = field(default_factory=dict)
    """The same for the ``Name`` nodes scope analysis proved to be uses."""
    init_unsure: dict[str, str] = field(default_factory=dict)
    """The same for names whose uses cannot all be proven (a fallback ``def`` under ``except ImportError``):
    their calls are reported instead."""


def migrate_names(state: FileState, rule: str, selected: Callable[[str], bool]) -> None:
    """Move the legacy names accepted by ``selected`` to newlog (uses now, imports in ``finish``)."""
    found = collect(state)
    everything = rule == IMPORTS_RULE
    if rule not in migration(state).rules:
        migration(state).rules.append(rule)
    plan = _Plan()
    _plan_names(state, rule, found, selected, plan)
    keys = _plan_modules(state, rule, found, plan)
    if everything:
        _plan_stars(state, found, plan)
    names = "|".join(sorted((re.escape(n) for n in NAMES if selected(n)), key=len, reverse=True))
    legacy = re.escape(state.options.module)
    patterns = [word_pattern(plan.words).pattern] if plan.words else []
    patterns.append(legacy if everything else rf"{legacy}\.(?:{names})(?!\w)")
    for key in keys:
        if everything:
            patterns.append(rf"(?<![\w.]){re.escape(key.partition('.')[0])}(?!\w)")
        else:
            patterns.append(rf"(?<![\w.]){_chain(key)}\s*\.\s*(?:{names})(?!\w)")
    pattern = re.compile("|".join(patterns))
    hot = state.hot(pattern)
    uses = _UsesTransformer(state, rule, selected, plan)
    if hot:
        state.transform(hot, uses, pattern)
    state.counts[rule] += uses.edits
    statuses = migration(state).modules
    for key in keys:
        status = statuses.setdefault(key, ModuleStatus())
        status.converted += uses.converted.get(key, 0)
        if uses.converted.get(key, 0):
            status.rules.append(rule)
        if not everything:
            status.left = _count(state, re.compile(rf"(?<![\w.]){_chain(key)}(?!\w)"), found.pure_indices)
            continue
        left = [where for where in uses.left if where[2] == key]
        left += [
            (i, node, key)
            for node_id, (i, node) in uses.module_positions.items()
            if plan.module_keys.get(node_id) == key and node_id not in uses.seen
        ]
        status.left = len(left)
        for index, node, _key in left:
            state.report(rule, index, node, _unconverted_message(state, key, node))


def _chain(dotted: str) -> str:
    """A regex for a dotted name, allowing spaces around the dots."""
    return r"\s*\.\s*".join(re.escape(part) for part in dotted.split("."))


def _count(state: FileState, pattern: re.Pattern[str], skip: set[int]) -> int:
    return sum(len(pattern.findall(state.text(i))) for i in range(len(state.body)) if i not in skip)


def _plan_names(
    state: FileState, rule: str, found: LegacyImports, selected: Callable[[str], bool], plan: _Plan
) -> None:
    decided = migration(state).specs
    exports = reexported(state)
    by_local: dict[tuple[str, str], list[NameBinding]] = {}
    for binding in found.names:
        by_local.setdefault((binding.name, binding.local), []).append(binding)
    for (name, local), bindings in by_local.items():
        if rule == IMPORTS_RULE and name in _INIT_NAMES:
            _plan_init(state, name, local, bindings, plan)
        if (name, local) in decided:
            continue
        if name not in NAMES or not selected(name):
            if rule == IMPORTS_RULE and local not in state.released:
                for b in bindings:
                    state.report(rule, b.index, b.alias, _unknown_message(state, name))
            continue
        new = NAMES[name].new
        aliased = [b for b in bindings if b.alias.asname is not None]
        if aliased:
            decided[(name, local)] = ((new, None) if local == new and local != name else (new, local), rule)
            continue
        if new == name:
            decided[(name, local)] = ((new, None), rule)
            continue
        keep_old_name = (
            local in exports or _reexported_by_package(state, bindings, found) or _collides(state, new, found)
        )
        uses = None if keep_old_name else find_uses(state, local, [b.node for b in bindings], "(.[")
        if uses is None:
            decided[(name, local)] = ((new, name), rule)
            continue
        decided[(name, local)] = ((new, None), rule)
        plan.words.add(local)
        if uses.name is not None:
            plan.renames_by_name[local] = new
        for node_id in uses.ids:
            plan.renames_by_id[node_id] = new


def _plan_init(state: FileState, name: str, local: str, bindings: Sequence[NameBinding], plan: _Plan) -> None:
    """Find the calls of ``configure_structlog`` / ``structlog_config.configure`` that get the profile keywords."""
    plan.words.add(local)
    uses = find_uses(state, local, [b.node for b in bindings], "(.[")
    if uses is None:
        plan.init_unsure[local] = name
    elif uses.name is not None:
        plan.init_names[local] = name
    else:
        plan.init_ids.update(dict.fromkeys(uses.ids, name))


def _reexported_by_package(state: FileState, bindings: Sequence[NameBinding], found: LegacyImports) -> bool:
    """In a package ``__init__`` without ``__all__``, a top-level import the file does not use itself
    is there for the package's importers."""
    if not state.info.is_package or declares_all(state) or not any(b.module_level for b in bindings):
        return False
    return not mentioned(state, bindings[0].local, found.pure_indices)


def _collides(state: FileState, new: str, found: LegacyImports) -> bool:
    """Whether naming something ``new`` in this file could clash with an existing binding or use."""
    if not mentioned(state, new, found.pure_indices):
        return False
    scopes = state.scopes(word_pattern([new]))
    for scope in {scope for scope in scopes.values() if scope is not None}:
        if scope.assignments[new] or scope.accesses[new]:
            return True
    return False


def _plan_modules(state: FileState, rule: str, found: LegacyImports, plan: _Plan) -> list[str]:
    by_key: dict[str, list[ModuleBinding]] = {}
    for binding in found.modules:
        by_key.setdefault(binding.chain or binding.local, []).append(binding)
    planned = []
    exports = reexported(state)
    for key, bindings in by_key.items():
        if key in exports:
            if rule == IMPORTS_RULE:
                for b in bindings:
                    message = f"'{key}' (the module {state.options.module}) is re-exported in __all__; left as is"
                    state.report(rule, b.index, b.alias, message)
            continue
        uses = find_module_uses(state, key, [b.node for b in bindings])
        if uses is None or _newlog_taken(state, found):
            if rule == IMPORTS_RULE:
                for b in bindings:
                    state.report(rule, b.index, b.alias, f"cannot tell what '{key}' refers to at every use; left as is")
            continue
        planned.append(key)
        if uses.name is not None:
            plan.module_names[uses.name] = key
        if uses.chain is not None:
            plan.module_chains[uses.chain] = key
        for node_id in uses.ids:
            plan.module_keys[node_id] = key
    return planned


def _newlog_taken(state: FileState, found: LegacyImports) -> bool:
    """Whether the name ``newlog`` means something other than the package in this file."""
    for text, start, end in occurrences(state, NEW_MODULE, found.pure_indices):
        before = text[max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1 : start]
        if re.match(r"^\s*(?:from|import)\s+$", before) or text[end : end + 1] == ".":
            continue
        return True
    return False


def _plan_stars(state: FileState, found: LegacyImports, plan: _Plan) -> None:
    if not any(star.module_level for star in found.stars) or migration(state).stars is not False:
        return
    names = _star_names(state, found)
    if names is None:
        migration(state).stars = None
        renamed = sorted(f"{old} -> {r.new}" for old, r in NAMES.items() if old != r.new)
        for star in (star for star in found.stars if star.module_level):
            state.report(
                IMPORTS_RULE,
                star.index,
                star.node,
                "star import replaced by 'from newlog import *' (cannot tell which names are used here); "
                "renamed names are not provided under their legacy names: " + ", ".join(renamed),
            )
        return
    specs: list[AliasSpec] = []
    for name, uses in names.items():
        new = NAMES[name].new
        if new == name:
            specs.append((new, None))
        elif name in reexported(state) or uses is None or _collides(state, new, found):
            specs.append((new, name))
        else:
            specs.append((new, None))
            plan.words.add(name)
            if uses.name is not None:
                plan.renames_by_name[name] = new
            for node_id in uses.ids:
                plan.renames_by_id[node_id] = new
    migration(state).stars = sorted(specs)


def _star_names(state: FileState, found: LegacyImports) -> dict[str, Uses | None] | None:
    """Legacy names a star-importing module uses -> their uses (None: some use is in a string annotation).

    A name counts when a ``Name`` node outside imports has its value and nothing in the file binds
    it: the textual gate proves that for most names, scope analysis decides the others.
    """
    if state.info.is_package or any(_DYNAMIC.search(state.text(i)) for i in range(len(state.body))):
        return None
    exports = reexported(state) & set(NAMES)
    candidates = {name for name in NAMES if mentioned(state, name, found.pure_indices)}
    used: dict[str, Uses | None] = {name: Uses() for name in exports}
    if candidates:
        counter = _NameCounter(candidates)
        state.visit(state.hot(word_pattern(candidates)), counter, word_pattern(candidates))
        unsure = []
        for name in sorted(counter.used):
            bound = any(b.local == name for b in [*found.names, *found.modules])
            if not bound and only_loads(state, name, "(.[", found.pure_indices):
                used[name] = Uses(name=name)
            else:
                unsure.append(name)
        if unsure:
            scopes = state.scopes(word_pattern(unsure))
            for scope in {scope for scope in scopes.values() if scope is not None}:
                for name in unsure:
                    for access in scope.accesses[name]:
                        if access.referents:
                            continue
                        if not isinstance(access.node, cst.Name):
                            used[name] = None
                        elif used.get(name, Uses()) is not None:
                            previous = used.get(name) or Uses()
                            used[name] = Uses(ids=previous.ids | {id(access.node)})
    return used


def _unknown_message(state: FileState, name: str) -> str:
    module = state.options.module
    if name == "_global_context":
        return (
            f"'{name}' has no newlog equivalent (the global-context rule rewrites its uses); "
            f"left importing it from {module}"
        )
    return f"'{name}' is not part of the legacy API newlog replaces; left importing it from {module}"


def _unconverted_message(state: FileState, key: str, node: cst.CSTNode) -> str:
    module = state.options.module
    if isinstance(node, cst.Attribute):
        return f"'{node.attr.value}' of {module} has no newlog equivalent; left importing {module}"
    return f"'{key}' (the module {module}) is used other than as 'module.name'; left importing it"


class _UsesTransformer(Pruned, cst.CSTTransformer):
    """Renames uses of renamed names, turns ``module.name`` into ``newlog.<new>``, rewrites dotted strings."""

    def __init__(self, state: FileState, rule: str, selected: Callable[[str], bool], plan: _Plan) -> None:
        self.state = state
        self.rule = rule
        self.selected = selected
        self.plan = plan
        self.legacy = state.options.module
        self.skip: set[int] = set()
        self.converted: dict[str, int] = {}
        self.left: list[tuple[int, cst.CSTNode, str]] = []
        self.seen: set[int] = set()
        self.module_positions: dict[int, tuple[int, cst.CSTNode]] = {}
        self.edits = 0
        self.changed = False
        self.index = 0

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))
        if id(node) in self.plan.module_keys:
            self.module_positions[id(node)] = (self.index, node)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self.plan.module_keys:
            self.module_positions[id(node)] = (self.index, node)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def _module_key(self, node: cst.BaseExpression) -> str | None:
        key = self.plan.module_keys.get(id(node))
        if key is None and isinstance(node, cst.Name) and id(node) not in self.skip:
            key = self.plan.module_names.get(node.value)
        if key is None and self.plan.module_chains and isinstance(node, cst.Attribute):
            key = self.plan.module_chains.get(get_full_name_for_node(node) or "")
        return key

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if id(original_node) in self.skip:
            return updated_node
        new = self.plan.renames_by_id.get(id(original_node)) or self.plan.renames_by_name.get(original_node.value)
        if new is None or new == original_node.value:
            return updated_node
        self.edits += 1
        self.changed = True
        return updated_node.with_changes(value=new)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        key = self._module_key(original_node.value)
        if key is None:
            return updated_node
        self.seen.add(id(original_node.value))
        attr = original_node.attr.value
        if attr not in NAMES or not self.selected(attr):
            self.left.append((self.index, original_node, key))
            return updated_node
        self.converted[key] = self.converted.get(key, 0) + 1
        self.edits += 1
        self.changed = True
        return updated_node.with_changes(value=cst.Name(NEW_MODULE), attr=cst.Name(NAMES[attr].new))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if self.rule != IMPORTS_RULE:
            return updated_node
        kind = self._initialises(original_node)
        if kind is None:
            return updated_node
        name = get_full_name_for_node(updated_node.func) or "init_app"
        if kind == "unsure":
            self.state.report(self.rule, self.index, original_node, UNSURE.format(call=f"{name}(...)"))
            return updated_node
        call = with_profile(updated_node, self.state)
        if call is None:
            message = NO_PROFILE.format(call=f"{name}(...)", module=self.legacy)
            self.state.report(self.rule, self.index, original_node, message)
            return updated_node
        if call is not updated_node:
            self.edits += 1
            self.changed = True
        return call

    def _initialises(self, call: cst.Call) -> str | None:
        """``"yes"`` when ``call`` is ``configure_structlog(app)`` or ``structlog_config.configure(app)``
        (any import form), ``"unsure"`` when it may be, else None."""
        func = call.func
        if isinstance(func, cst.Name):
            return self._init_name(func, "configure_structlog")
        if not isinstance(func, cst.Attribute):
            return None
        if func.attr.value == "configure_structlog":
            return "yes" if self._module_key(func.value) is not None else None
        if func.attr.value != "configure" or not call.args:
            return None
        owner = func.value
        if isinstance(owner, cst.Name):
            return self._init_name(owner, "structlog_config")
        if isinstance(owner, cst.Attribute) and owner.attr.value == "structlog_config":
            return "yes" if self._module_key(owner.value) is not None else None
        return None

    def _init_name(self, node: cst.Name, legacy: str) -> str | None:
        if id(node) in self.skip:
            return None
        if self.plan.init_ids.get(id(node)) == legacy or self.plan.init_names.get(node.value) == legacy:
            return "yes"
        renamed = self.plan.renames_by_id.get(id(node)) or self.plan.renames_by_name.get(node.value)
        if renamed is not None and renamed == NAMES[legacy].new:  # a proven use, renamed (star imports too)
            return "yes"
        return "unsure" if self.plan.init_unsure.get(node.value) == legacy else None

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        if self.legacy not in original_node.value:
            return updated_node
        try:
            value = original_node.evaluated_value
        except Exception:  # noqa: BLE001  (odd escapes: not a dotted path anyway)
            return updated_node
        if not isinstance(value, str) or not (value == self.legacy or value.startswith(self.legacy + ".")):
            return updated_node
        rest = value[len(self.legacy) + 1 :]
        if rest in NAMES and self.selected(rest):
            self.edits += 1
            self.changed = True
            quote = original_node.quote
            return updated_node.with_changes(
                value=f"{original_node.prefix}{quote}{NEW_MODULE}.{NAMES[rest].new}{quote}"
            )
        if self.rule == IMPORTS_RULE:
            self.state.report(
                self.rule, self.index, original_node, f"string {value!r} has no newlog equivalent; left as is"
            )
        return updated_node


# -- the end of a run: import statements, unused names, wanted imports --------------------------------


def finish(state: FileState) -> None:
    """Rewrite the legacy imports as the rules decided, drop what they made unused, add what they need,
    and put the import lines written where isort would (``codemods.names.placement``)."""
    unused = unused_names(state, state.released) if state.released else set()
    ours: set[int] = set()
    if state.migration is not None or unused:
        found = collect(state)
        if found:
            rewriter = _ImportRewriter(state, migration(state), found, unused)
            replaced = state.transform(sorted(found.indices), rewriter, word_pattern([state.options.module_last]))
            _hand_over_leading_lines(state, replaced, rewriter.removed_top, rewriter.produced_lines)
            for rule, n in rewriter.edits.items():
                state.counts[rule] += n
            ours |= rewriter.produced_lines
    if unused:
        drop_unused(state, unused)
    for module in sorted(state.wanted_imports):
        line = from_import_line(module, [(name, None) for name in sorted(state.wanted_imports[module])])
        state.insert(insertion_index(state.body), [line])
        ours.add(id(line))
    if ours:
        _place(state, ours)


def _place(state: FileState, ours: set[int]) -> None:
    """Move our import lines into place, at the top level and in the blocks that hold some."""
    info = state.info
    style = Style(first_party=info.first_party, line_length=info.line_length, indent=state.module.default_indent)
    _place_top_level(state, ours, style)
    # our lines inside a block are new, so their top-level statement is too
    nested = [i for i in state.edited() if not isinstance(state.body[i], cst.SimpleStatementLine)]
    if nested:
        state.transform(nested, _BlockPlacer(ours, style))


def _place_top_level(state: FileState, ours: set[int], style: Style) -> None:
    """Place our top-level import lines: only their import blocks are read (the file is parsed lazily)."""
    mine = [i for i in range(len(state.body)) if _IMPORT_TEXT.match(state.text(i)) and id(state.body[i]) in ours]
    replacements: dict[int, list[cst.BaseStatement]] = {}
    end = -1
    for index in mine:
        if index <= end:
            continue
        start = index
        while start > 0 and _IMPORT_TEXT.match(state.text(start - 1)) and is_import_line(state.body[start - 1]):
            start -= 1
        end = index
        while (
            end + 1 < len(state.body)
            and _IMPORT_TEXT.match(state.text(end + 1))
            and is_import_line(state.body[end + 1])
        ):
            end += 1
        block = state.body[start : end + 1]
        placed = place(block, ours, style)
        if len(placed) == len(block) and all(a is b for a, b in zip(placed, block)):
            continue
        replacements[start] = placed
        for i in range(start + 1, end + 1):
            replacements[i] = []
    state.apply(replacements)


_IMPORT_TEXT = re.compile(r"(?:[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n))*(?:from|import)\b")
"""The text of a top-level statement that may be an import line (blank and comment lines first)."""


class _BlockPlacer(cst.CSTTransformer):
    """Places our import lines inside functions, classes, ``try`` and ``if`` blocks."""

    def __init__(self, ours: set[int], style: Style) -> None:
        self.ours = ours
        self.style = style
        self.changed = False
        self.index = 0

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return True

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        # the visit made new objects of the statements: ours are known by their original ids
        mine = {id(new) for old, new in zip(original_node.body, updated_node.body) if id(old) in self.ours}
        if not mine:
            return updated_node
        body = place(updated_node.body, mine, self.style)
        if all(a is b for a, b in zip(body, updated_node.body)):
            return updated_node
        self.changed = True
        return updated_node.with_changes(body=body)


def _hand_over_leading_lines(
    state: FileState, replaced: Mapping[int, object], removed: Mapping[int, list[cst.EmptyLine]], ours: set[int]
) -> None:
    """A removed top-level import gives its blank lines (and comments not about the legacy module) to the next line.

    ``replaced`` is what ``FileState.transform`` replaced, by the index the statements had before.
    """
    position = 0
    pending: list[cst.EmptyLine] = []
    changes: dict[int, cst.BaseStatement] = {}
    count_before = len(state.body) + sum(1 - _replacement_count(new) for new in replaced.values())
    for i in range(count_before):
        new = replaced.get(i)
        count = 1 if new is None else _replacement_count(new)
        if count == 0:
            pending += removed.get(i, [])
            continue
        if pending and position < len(state.body):
            target = changes.get(position, state.body[position])
            changes[position] = _prepend_lines(target, pending)
            if id(target) in ours:
                ours.add(id(changes[position]))
            pending = []
        position += count
    if changes:
        state.apply(changes)


def _replacement_count(new: object) -> int:
    return 1 if isinstance(new, cst.CSTNode) else len(new)  # type: ignore[arg-type]


def _kept_leading_lines(stmt: cst.BaseStatement, module: str) -> list[cst.EmptyLine]:
    lines = list(getattr(stmt, "leading_lines", ()))
    return [
        line
        for line in lines
        if line.comment is None or clean_comment(line.comment.value, module, was_star=False) is not None
    ]


def _prepend_lines(stmt: cst.BaseStatement, lines: list[cst.EmptyLine]) -> cst.BaseStatement:
    existing = list(getattr(stmt, "leading_lines", ()))
    if any(line.comment is None for line in existing):
        lines = [line for line in lines if line.comment is not None]
    return stmt.with_changes(leading_lines=[*lines, *existing])


class _ImportRewriter(Pruned, cst.CSTTransformer):
    """Rewrites the legacy import statements following the recorded decisions."""

    def __init__(self, state: FileState, plan: Migration, found: LegacyImports, unused: set[str]) -> None:
        self.state = state
        self.plan = plan
        self.unused = unused
        self.names = {id(b.alias): b for b in found.names}
        self.modules = {id(b.alias): b for b in found.modules}
        self.stars = {id(s.node) for s in found.stars if s.module_level}
        self.depth = 0
        self.newlog_at_top = any(_imports_newlog(state.body[i]) for i in state.hot(word_pattern([NEW_MODULE])))
        self.edits: dict[str, int] = {}
        self.produced: list[cst.ImportFrom] = []
        self.produced_lines: set[int] = set()
        """Ids of the import lines this rewrite wrote (placement moves them)."""
        self.replaced: dict[int, int] = {}
        """Id of a rewritten line -> how many lines replace it (0: removed)."""
        self.removed_top: dict[int, list[cst.EmptyLine]] = {}
        """Index of a removed top-level line -> the leading lines it leaves to the next one."""
        self.changed = False
        self.index = 0

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.depth -= 1
        body = list(updated_node.body)
        position = 0
        pending: list[cst.EmptyLine] = []
        for stmt in original_node.body:
            count = self.replaced.get(id(stmt), 1)
            if count == 0:
                pending += _kept_leading_lines(stmt, self.state.options.module)
                continue
            if pending and position < len(body):
                body[position] = _prepend_lines(body[position], pending)  # type: ignore[assignment]
                pending = []
            position += count
        if not body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
        return updated_node.with_changes(body=body)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return False

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine] | cst.RemovalSentinel:
        per_small: list[list[cst.BaseSmallStatement]] = []
        touched = False
        for small in original_node.body:
            pieces = self._rewrite(small)
            touched |= pieces is not None
            per_small.append([small] if pieces is None else pieces)
        if not touched:
            return updated_node
        self.changed = True
        if len(original_node.body) > 1:
            body = [piece for pieces in per_small for piece in pieces]
            self.replaced[id(original_node)] = 1 if body else 0
            if not body:
                return self._remove(original_node)
            return updated_node.with_changes(body=body)
        pieces = per_small[0]
        self.replaced[id(original_node)] = len(pieces)
        if not pieces:
            return self._remove(original_node)
        was_star = isinstance(original_node.body[0], cst.ImportFrom) and isinstance(
            original_node.body[0].names, cst.ImportStar
        )
        trailing = _clean_trailing(updated_node.trailing_whitespace, self.state.options.module, was_star)
        noqa = trailing.comment is not None and "noqa" in trailing.comment.value
        leading = _kept_leading_lines(updated_node, self.state.options.module)
        lines = [
            updated_node.with_changes(
                body=[_clean_parenthesis(pieces[0], self.state.options.module)],
                trailing_whitespace=trailing,
                leading_lines=leading,
            )
        ]
        for piece in pieces[1:]:
            extra = cst.SimpleStatementLine(body=[piece])
            lines.append(extra.with_changes(trailing_whitespace=trailing) if noqa else extra)
        for line in lines:
            small = line.body[0]
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                self.produced_lines.add(id(line))
        return lines[0] if len(lines) == 1 else cst.FlattenSentinel(lines)

    def _remove(self, line: cst.SimpleStatementLine) -> cst.RemovalSentinel:
        if self.depth == 0:
            self.removed_top[self.index] = _kept_leading_lines(line, self.state.options.module)
        return cst.RemovalSentinel.REMOVE

    def _count(self, rule: str) -> None:
        """Note that ``rule`` took part in rewriting the statement at hand (it counts once, see ``_rewrite``)."""
        self.touching.add(rule)

    def _rewrite(self, small: cst.BaseSmallStatement) -> list[cst.BaseSmallStatement] | None:
        self.touching: set[str] = set()
        pieces: list[cst.BaseSmallStatement] | None = None
        if isinstance(small, cst.ImportFrom):
            if id(small) in self.stars:
                pieces = self._rewrite_star(small)
            elif not isinstance(small.names, cst.ImportStar):
                pieces = self._rewrite_from(small)
        elif isinstance(small, cst.Import):
            pieces = self._rewrite_import(small)
        if pieces is not None:
            rule = self.plan.first(self.touching or {self.default_rule})
            self.edits[rule] = self.edits.get(rule, 0) + 1
        return pieces

    def _still_needed(self, status: ModuleStatus, key: str) -> bool:
        """Whether a module binding whose uses are all gone still needs ``import newlog``: some use became
        ``newlog.<name>``, or it had no use at all (an import kept for what importing does)."""
        return status.converted > 0 or not _used_in_original(self.state, key.partition(".")[0])

    @property
    def default_rule(self) -> str:
        """The rule a statement edit counts for when no decision names one (a name another rule made unused)."""
        return IMPORTS_RULE if IMPORTS_RULE in self.plan.rules else (self.plan.rules or [IMPORTS_RULE])[0]

    def _rewrite_star(self, node: cst.ImportFrom) -> list[cst.BaseSmallStatement] | None:
        specs = self.plan.stars
        if specs is False:
            return None
        self._count(IMPORTS_RULE)
        new = node.with_changes(module=cst.Name(NEW_MODULE), relative=())
        if specs is None:
            return [new]
        if not specs:
            return []
        return [new.with_changes(names=[make_alias(*spec) for spec in specs])]  # type: ignore[union-attr]

    def _rewrite_from(self, node: cst.ImportFrom) -> list[cst.BaseSmallStatement] | None:
        assert not isinstance(node.names, cst.ImportStar)
        aliases = list(node.names)
        to_newlog: list[tuple[int, cst.ImportAlias]] = []
        kept: list[tuple[int, cst.ImportAlias]] = []
        needs_newlog = False
        touched = False
        for i, alias in enumerate(aliases):
            binding = self.names.get(id(alias))
            module = self.modules.get(id(alias))
            if binding is not None and binding.local in self.unused:
                touched = True
                continue
            if binding is not None and (binding.name, binding.local) in self.plan.specs:
                (name, asname), rule = self.plan.specs[(binding.name, binding.local)]
                touched = True
                self._count(rule)
                to_newlog.append((i, alias.with_changes(name=cst.Name(name), asname=_as_name(alias, asname))))
                continue
            if module is not None and (module.chain or module.local) in self.plan.modules:
                status = self.plan.modules[module.chain or module.local]
                for rule in status.rules:
                    self._count(rule)
                if status.left == 0 and (status.converted or IMPORTS_RULE in self.plan.rules):
                    touched = True
                    needs_newlog |= self._still_needed(status, module.chain or module.local)
                    continue
                if status.converted:
                    touched = True
                    needs_newlog = True
            kept.append((i, alias))
        if not touched:
            return None
        parenthesized = node.lpar is not None
        pieces: list[cst.BaseSmallStatement] = []
        if to_newlog:
            new_node = node.with_changes(
                module=cst.Name(NEW_MODULE), relative=(), names=select_aliases(aliases, to_newlog, parenthesized)
            )
            self.produced.append(new_node)
            pieces.append(new_node)
        if kept:
            if to_newlog:
                pieces.append(
                    cst.ImportFrom(
                        module=node.module,
                        relative=node.relative,
                        names=select_aliases(aliases, [(i, make_alias(*alias_spec(a))) for i, a in kept], False),
                    )
                )
            else:
                pieces.append(node.with_changes(names=select_aliases(aliases, kept, parenthesized)))
        if needs_newlog:
            pieces.extend(self._import_newlog())
        return pieces

    def _rewrite_import(self, node: cst.Import) -> list[cst.BaseSmallStatement] | None:
        kept: list[tuple[int, cst.ImportAlias]] = []
        extra: list[cst.BaseSmallStatement] = []
        needs_newlog = False
        for i, alias in enumerate(node.names):
            module = self.modules.get(id(alias))
            key = None if module is None else module.chain or module.local
            if module is None or key not in self.plan.modules:
                kept.append((i, alias))
                continue
            status = self.plan.modules[key]
            for rule in status.rules:
                self._count(rule)
            if status.left == 0 and not status.converted and IMPORTS_RULE not in self.plan.rules:
                kept.append((i, alias))
                continue
            needs_newlog |= status.converted > 0 or (status.left == 0 and self._still_needed(status, key or ""))
            if status.left:
                kept.append((i, alias))
            elif module.chain is not None and other_root_uses(self.state, module):
                extra.append(cst.Import(names=[cst.ImportAlias(name=dotted_expr(module.chain.rpartition(".")[0]))]))
        if len(kept) == len(node.names) and not needs_newlog:
            return None
        pieces: list[cst.BaseSmallStatement] = []
        if kept:
            pieces.append(node.with_changes(names=select_aliases(node.names, kept, False)))
        pieces.extend(extra)
        if needs_newlog:
            newlog = self._import_newlog()
            if newlog and not pieces:
                newlog = [node.with_changes(names=newlog[0].names)]  # type: ignore[attr-defined]
            pieces.extend(newlog)
        return pieces

    def _import_newlog(self) -> list[cst.BaseSmallStatement]:
        if self.depth == 0:
            if self.newlog_at_top:
                return []
            self.newlog_at_top = True
        return [cst.Import(names=[cst.ImportAlias(name=cst.Name(NEW_MODULE))])]


def _clean_trailing(trailing: cst.TrailingWhitespace, module: str, was_star: bool) -> cst.TrailingWhitespace:
    """The end of a rewritten import line, without a comment about the legacy module."""
    if trailing.comment is None:
        return trailing
    comment = clean_comment(trailing.comment.value, module, was_star=was_star)
    if comment is None:
        return trailing.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
    return trailing.with_changes(comment=cst.Comment(comment))


def _clean_parenthesis(small: cst.BaseSmallStatement, module: str) -> cst.BaseSmallStatement:
    """``from newlog import (  # legacy logging module`` loses the comment about the legacy module."""
    if not isinstance(small, cst.ImportFrom) or small.lpar is None:
        return small
    space = small.lpar.whitespace_after
    if not isinstance(space, cst.ParenthesizedWhitespace) or space.first_line.comment is None:
        return small
    if not _module_changed(small, module):
        return small
    comment = clean_comment(space.first_line.comment.value, module, was_star=False)
    first = space.first_line.with_changes(
        whitespace=cst.SimpleWhitespace("") if comment is None else space.first_line.whitespace,
        comment=None if comment is None else cst.Comment(comment),
    )
    return small.with_changes(lpar=small.lpar.with_changes(whitespace_after=space.with_changes(first_line=first)))


def _module_changed(small: cst.ImportFrom, module: str) -> bool:
    return small.module is not None and get_full_name_for_node(small.module) == NEW_MODULE


def _used_in_original(state: FileState, local: str) -> bool:
    """Whether the file as read used ``local.<attribute>`` outside its import lines."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(local)}\s*\.")
    return any(pattern.search(line) and not IMPORT_LINE.match(line) for line in state.source.splitlines())


def _as_name(alias: cst.ImportAlias, asname: str | None) -> cst.AsName | None:
    """The ``as`` part for ``asname``, keeping the original's spacing when it had one."""
    if asname is None:
        return None
    if alias.asname is not None:
        return alias.asname.with_changes(name=cst.Name(asname))
    return cst.AsName(name=cst.Name(asname))


def _imports_newlog(stmt: cst.BaseStatement) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    return any(
        isinstance(small, cst.Import) and any(a.asname is None and local_name(a) == NEW_MODULE for a in small.names)
        for small in stmt.body
    )
