"""A small reader of GraphQL executable documents, for simulators that serve a few operations.

It lexes and parses what a client sends (operations with variables, selection sets with aliases,
arguments and directives, inline fragments and named fragments, every literal kind) following
the GraphQL specification (October 2021), so a malformed document is refused where a real server
refuses it, with the line and column of the offending token. What a document *means* (which
fields exist, what they cost, what they do) is the simulator's business: this module only builds
the tree and resolves argument values against the request's variables.

Deliberately left out: type-system definitions (a client never sends them) and block strings'
indentation rules beyond stripping the common indentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class GraphQLSyntaxError(ValueError):
    """The document does not parse; ``line`` and ``column`` point at the offending token (1-based)."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line, self.column = line, column


@dataclass(frozen=True)
class Token:
    kind: str   # NAME, INT, FLOAT, STRING, PUNCT, EOF
    value: str
    line: int
    column: int


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class TypeRef:
    name: str | None = None          # a named type
    of: TypeRef | None = None        # a list's item type
    non_null: bool = False

    def __str__(self) -> str:
        inner = f"[{self.of}]" if self.of is not None else str(self.name)
        return inner + ("!" if self.non_null else "")


@dataclass
class Directive:
    name: str
    arguments: dict[str, Any]
    line: int
    column: int


@dataclass
class Field:
    name: str
    alias: str | None
    arguments: dict[str, Any]
    directives: list[Directive]
    selections: list[Selection]
    line: int
    column: int

    @property
    def key(self) -> str:
        """The name the field's result goes under in the answer."""
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    directives: list[Directive]
    selections: list[Selection]


@dataclass
class FragmentSpread:
    name: str
    directives: list[Directive]
    line: int
    column: int


Selection = Field | InlineFragment | FragmentSpread


@dataclass
class VariableDefinition:
    name: str
    type: TypeRef
    default: Any = None
    has_default: bool = False


@dataclass
class Operation:
    kind: str                    # query | mutation | subscription
    name: str | None
    variables: list[VariableDefinition]
    directives: list[Directive]
    selections: list[Selection]
    line: int
    column: int


@dataclass
class Fragment:
    name: str
    type_condition: str
    selections: list[Selection]


@dataclass
class Document:
    operations: list[Operation] = field(default_factory=list)
    fragments: dict[str, Fragment] = field(default_factory=dict)


_PUNCT = ("...", "!", "$", "&", "(", ")", ":", "=", "@", "[", "]", "{", "|", "}")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, line_start = 0, 1, 0
    n = len(source)
    while i < n:
        ch = source[i]
        column = i - line_start + 1
        if ch in " \t,\ufeff":
            i += 1
        elif ch in "\r\n":
            i += 2 if source.startswith("\r\n", i) else 1
            line, line_start = line + 1, i
        elif ch == "#":
            while i < n and source[i] not in "\r\n":
                i += 1
        elif source.startswith('"""', i):
            end = source.find('"""', i + 3)
            while end != -1 and source[end - 1] == "\\":
                end = source.find('"""', end + 3)
            if end == -1:
                raise GraphQLSyntaxError("Unterminated string", line, column)
            raw = source[i + 3:end].replace('\\"""', '"""')
            tokens.append(Token("STRING", _block_string(raw), line, column))
            for _ in range(raw.count("\n")):
                line += 1
            if "\n" in raw:
                line_start = i + 3 + raw.rfind("\n") + 1
            i = end + 3
        elif ch == '"':
            value, i = _string(source, i, line, column)
            tokens.append(Token("STRING", value, line, column))
        elif any(source.startswith(p, i) for p in _PUNCT):
            punct = next(p for p in _PUNCT if source.startswith(p, i))
            tokens.append(Token("PUNCT", punct, line, column))
            i += len(punct)
        elif ch == "-" or ch.isdigit():
            match = _NUMBER.match(source, i)
            if not match or (match.end() < n and (_NAME.match(source, match.end()) or source[match.end()] == ".")):
                raise GraphQLSyntaxError(f"Invalid number near {source[i:i + 10]!r}", line, column)
            text = match.group(0)
            tokens.append(Token("FLOAT" if match.group(2) or match.group(3) else "INT", text, line, column))
            i = match.end()
        elif match := _NAME.match(source, i):
            tokens.append(Token("NAME", match.group(0), line, column))
            i = match.end()
        else:
            raise GraphQLSyntaxError(f"Unexpected character {ch!r}", line, column)
    tokens.append(Token("EOF", "", line, i - line_start + 1))
    return tokens


def _string(source: str, i: int, line: int, column: int) -> tuple[str, int]:
    out, i = [], i + 1
    while i < len(source):
        ch = source[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch in "\r\n":
            break
        if ch == "\\":
            nxt = source[i + 1:i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", source[i + 2:i + 6]):
                out.append(chr(int(source[i + 2:i + 6], 16)))
                i += 6
                continue
            raise GraphQLSyntaxError(f"Invalid escape sequence \\{nxt}", line, column)
        out.append(ch)
        i += 1
    raise GraphQLSyntaxError("Unterminated string", line, column)


def _block_string(raw: str) -> str:
    lines = raw.splitlines()
    indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines[1:] if ln.strip()]
    common = min(indents) if indents else 0
    lines = lines[:1] + [ln[common:] for ln in lines[1:]]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


class _Parser:
    def __init__(self, source: str):
        self.tokens = tokenize(source)
        self.at = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.at]

    def fail(self, token: Token | None = None) -> GraphQLSyntaxError:
        token = token or self.peek
        shown = "end of file" if token.kind == "EOF" else f'"{token.value}"'
        return GraphQLSyntaxError(f"Parse error on {shown} ({token.kind if token.kind != 'PUNCT' else _punct_name(token.value)})"
                                  f" at [{token.line}, {token.column}]", token.line, token.column)

    def take(self, kind: str, value: str | None = None) -> Token:
        token = self.peek
        if token.kind != kind or (value is not None and token.value != value):
            raise self.fail(token)
        self.at += 1
        return token

    def skip(self, kind: str, value: str) -> bool:
        if self.peek.kind == kind and self.peek.value == value:
            self.at += 1
            return True
        return False

    def document(self) -> Document:
        doc = Document()
        if self.peek.kind == "EOF":
            raise self.fail()
        while self.peek.kind != "EOF":
            token = self.peek
            if token.kind == "PUNCT" and token.value == "{":
                doc.operations.append(Operation("query", None, [], [], self.selection_set(), token.line,
                                                token.column))
            elif token.kind == "NAME" and token.value in ("query", "mutation", "subscription"):
                doc.operations.append(self.operation())
            elif token.kind == "NAME" and token.value == "fragment":
                fragment = self.fragment()
                doc.fragments[fragment.name] = fragment
            else:
                raise self.fail(token)
        return doc

    def operation(self) -> Operation:
        start = self.take("NAME")
        name = self.take("NAME").value if self.peek.kind == "NAME" else None
        variables = self.variable_definitions() if self.skip("PUNCT", "(") else []
        return Operation(start.value, name, variables, self.directives(), self.selection_set(), start.line,
                         start.column)

    def fragment(self) -> Fragment:
        self.take("NAME", "fragment")
        name = self.take("NAME")
        if name.value == "on":
            raise self.fail(name)
        self.take("NAME", "on")
        condition = self.take("NAME").value
        self.directives()
        return Fragment(name.value, condition, self.selection_set())

    def variable_definitions(self) -> list[VariableDefinition]:
        found = []
        while not self.skip("PUNCT", ")"):
            self.take("PUNCT", "$")
            name = self.take("NAME").value
            self.take("PUNCT", ":")
            definition = VariableDefinition(name, self.type_ref())
            if self.skip("PUNCT", "="):
                definition.default, definition.has_default = self.value(const=True), True
            self.directives()
            found.append(definition)
        if not found:
            raise self.fail(self.tokens[self.at - 1])
        return found

    def type_ref(self) -> TypeRef:
        if self.skip("PUNCT", "["):
            ref = TypeRef(of=self.type_ref())
            self.take("PUNCT", "]")
        else:
            ref = TypeRef(name=self.take("NAME").value)
        ref.non_null = self.skip("PUNCT", "!")
        return ref

    def directives(self) -> list[Directive]:
        found = []
        while self.peek.kind == "PUNCT" and self.peek.value == "@":
            at = self.take("PUNCT", "@")
            name = self.take("NAME").value
            found.append(Directive(name, self.arguments(), at.line, at.column))
        return found

    def arguments(self, const: bool = False) -> dict[str, Any]:
        if not self.skip("PUNCT", "("):
            return {}
        found: dict[str, Any] = {}
        while not self.skip("PUNCT", ")"):
            name = self.take("NAME").value
            self.take("PUNCT", ":")
            found[name] = self.value(const)
        if not found:
            raise self.fail(self.tokens[self.at - 1])
        return found

    def selection_set(self) -> list[Selection]:
        self.take("PUNCT", "{")
        selections: list[Selection] = []
        while not self.skip("PUNCT", "}"):
            if self.skip("PUNCT", "..."):
                if self.peek.kind == "NAME" and self.peek.value != "on":
                    name = self.take("NAME")
                    selections.append(FragmentSpread(name.value, self.directives(), name.line, name.column))
                else:
                    condition = None
                    if self.skip("NAME", "on"):
                        condition = self.take("NAME").value
                    selections.append(InlineFragment(condition, self.directives(), self.selection_set()))
                continue
            first = self.take("NAME")
            alias, name = None, first.value
            if self.skip("PUNCT", ":"):
                alias, name = first.value, self.take("NAME").value
            arguments, directives = self.arguments(), self.directives()
            children = self.selection_set() if self.peek.kind == "PUNCT" and self.peek.value == "{" else []
            selections.append(Field(name, alias, arguments, directives, children, first.line, first.column))
        if not selections:
            raise self.fail(self.tokens[self.at - 1])
        return selections

    def value(self, const: bool = False) -> Any:
        token = self.peek
        if token.kind == "PUNCT" and token.value == "$" and not const:
            self.at += 1
            return Variable(self.take("NAME").value)
        if token.kind == "INT":
            self.at += 1
            return int(token.value)
        if token.kind == "FLOAT":
            self.at += 1
            return float(token.value)
        if token.kind == "STRING":
            self.at += 1
            return token.value
        if token.kind == "NAME":
            self.at += 1
            if token.value in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[token.value]
            return EnumValue(token.value)
        if token.kind == "PUNCT" and token.value == "[":
            self.at += 1
            items = []
            while not self.skip("PUNCT", "]"):
                items.append(self.value(const))
            return items
        if token.kind == "PUNCT" and token.value == "{":
            self.at += 1
            fields: dict[str, Any] = {}
            while not self.skip("PUNCT", "}"):
                name = self.take("NAME").value
                self.take("PUNCT", ":")
                fields[name] = self.value(const)
            return fields
        raise self.fail(token)


def _punct_name(value: str) -> str:
    return {"{": "LCURLY", "}": "RCURLY", "(": "LPAREN", ")": "RPAREN", "[": "LBRACKET", "]": "RBRACKET",
            ":": "COLON", "$": "VAR_SIGN", "@": "DIR_SIGN", "!": "BANG", "=": "EQUALS", "...": "ELLIPSIS",
            "&": "AMP", "|": "PIPE"}.get(value, value)


def parse(source: str) -> Document:
    """The document's operations and fragments, or ``GraphQLSyntaxError``."""
    return _Parser(source).document()


class Unresolved(LookupError):
    """A value names a variable the request does not carry (nor defines)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def resolve(value: Any, variables: dict[str, Any]) -> Any:
    """An argument's value with its variables replaced by the request's (enums as their names)."""
    if isinstance(value, Variable):
        if value.name not in variables:
            raise Unresolved(value.name)
        return variables[value.name]
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    return value


def flatten(selections: list[Selection], type_name: str, fragments: dict[str, Fragment]) -> list[Field]:
    """The fields of a selection set on an object of ``type_name``: fragments that apply are
    spliced in (``@skip``/``@include`` are not evaluated: a simulator's clients do not send them)."""
    fields: list[Field] = []
    for selection in selections:
        if isinstance(selection, Field):
            fields.append(selection)
        elif isinstance(selection, InlineFragment):
            if selection.type_condition in (None, type_name):
                fields += flatten(selection.selections, type_name, fragments)
        else:
            fragment = fragments.get(selection.name)
            if fragment is None:
                raise KeyError(selection.name)
            if fragment.type_condition == type_name:
                fields += flatten(fragment.selections, type_name, fragments)
    return fields
