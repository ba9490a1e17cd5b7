"""Shopify's GraphQL Admin API, as far as Puente writes through it: ``inventorySetQuantities``.

``POST /admin/api/{version}/graphql.json`` with ``{"query": …, "variables": …, "operationName": …}``
(or the bare document as ``application/graphql``), authenticated by ``X-Shopify-Access-Token`` like
the REST endpoints (a wrong token gets the same 401). What it reproduces, per Shopify's GraphQL
Admin reference (the mutation, its input and payload types, the user-error codes), the rate-limit
and idempotency guides and the 2026-04 changelog:

- The simulated schema is written in SDL below (``SDL``): the ``Mutation`` root with one field,
  ``inventorySetQuantities``, its input and payload types as Shopify's reference declares them, the
  ``@idempotent(key:)`` directive and an empty ``QueryRoot``. ``graphql-core`` (the reference
  implementation's Python port) parses the document and validates it against that schema, so any
  other field (a query's ``shop``, another mutation), argument, directive or type is refused as the
  real API refuses a field it does not have, and a client cannot believe something worked that was
  never simulated. A syntax error keeps graphql-core's words and location; the validation errors
  Shopify's server (graphql-ruby) words differently are given its message and ``extensions.code``
  (``undefinedField``, ``argumentNotAccepted``, ``missingRequiredArguments``, ``undefinedDirective``,
  ``selectionMismatch``, ``variableRequiresValidType``, ``useAndDefineFragment``,
  ``variableNotDefined``, ``variableNotUsed``), and a variable that does not fit its type is
  ``INVALID_VARIABLE`` with the ``problems`` list (path into the value, explanation).
- ``inventorySetQuantities(input: {name, reason, referenceDocumentUri, quantities: [{inventoryItemId,
  locationId, quantity, changeFromQuantity}]})`` sets absolute quantities (``available``; the
  simulated shop commits nothing, so ``on_hand`` moves with it). From 2026-04 each quantity must
  carry ``changeFromQuantity`` (``null`` opts out of the compare-and-swap check; a value that no
  longer matches is ``CHANGE_FROM_QUANTITY_STALE``), ``compareQuantity`` and
  ``ignoreCompareQuantity`` are gone, and the field must carry ``@idempotent(key: …)``: without it
  the answer is a ``BAD_REQUEST`` error. A key seen before with the same input returns the first
  answer without setting anything again; with another input, ``IDEMPOTENCY_KEY_PARAMETER_MISMATCH``.
  Before 2026-04 (2026-01 is still served) the key is optional and ``changeFromQuantity`` (new in
  2026-01) sits beside the deprecated ``compareQuantity``/``ignoreCompareQuantity`` pair: a
  quantity without either must be opted out with ``ignoreCompareQuantity``.
- At most 250 quantities (``MAX_INPUT_SIZE_EXCEEDED``, nothing run, nothing charged). Per-quantity
  problems are ``userErrors`` (``field`` is the path into the input, indices as strings, e.g.
  ``["input", "quantities", "3", "inventoryItemId"]``): an unknown item (``INVALID_INVENTORY_ITEM``)
  or location (``INVALID_LOCATION``), an item and location given twice, a quantity out of range.
  The mutation is all or nothing: with any user error nothing is set and
  ``inventoryAdjustmentGroup`` is null. An item whose quantity the shop does not track
  (``inventory_management: null``) is refused as ``NON_MUTABLE_INVENTORY_ITEM`` with the REST
  endpoint's words (Shopify's reference does not say which code it uses; the simulator keeps the
  REST refusal's meaning).
- It writes the same inventory state as REST ``inventory_levels/set.json`` (``Business.
  shopify_set_level``), so REST reads, the products extract and the shop's own sales see it.
- Without the ``write_inventory`` scope: ``ACCESS_DENIED`` with the required access, data null.
- Cost and throttling: the mutation field costs 10 points, each object selected below it 1
  (``userErrors`` free); a bucket per token holds ``maximumAvailable`` points (2,000 on the standard
  plan) and restores ``restoreRate`` a second (100). A request is charged its requested cost up
  front and refunded the part it did not use (a payload without an adjustment group). Every
  answer carries ``extensions.cost`` (``requestedQueryCost``, ``actualQueryCost``,
  ``throttleStatus``). A request that finds fewer points than it needs is not run: HTTP 200 with
  ``errors: [{"message": "Throttled", "extensions": {"code": "THROTTLED", …}}]`` and the cost, so
  the client waits ``(requested - currentlyAvailable) / restoreRate`` seconds. The REST leaky
  bucket is separate and untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    build_schema,
    execute,
    get_named_type,
    get_operation_ast,
    parse,
    validate,
    visit,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values
from graphql.utilities import type_from_ast, validate_input_value

from puente.simulators.business import Business
from puente.simulators.business.shopify import LOCATION_ID
from puente.simulators.limits import CostBucket

MAX_QUANTITIES = 250
MUTATION_COST, OBJECT_COST = 10, 1
MAX_QUERY_COST = 1000
IDEMPOTENCY_FROM = "2026-04"  # the version from which @idempotent and changeFromQuantity are required
RATE_LIMITS_DOCS = "https://shopify.dev/api/usage/rate-limits"
REASONS = frozenset({"correction", "cycle_count_available", "damaged", "movement_canceled", "movement_created",
                     "movement_received", "movement_updated", "other", "promotion", "quality_control",
                     "received", "reservation_created", "reservation_deleted", "reservation_updated",
                     "restock", "safety_stock", "shrinkage"})
QUANTITY_LIMIT = 1_000_000_000
REQUIRED_ACCESS = "`write_inventory` access scope. Also: The user must have a permission to update an inventory."
FREE = {("InventorySetQuantitiesPayload", "userErrors")}  # payload errors cost nothing

# The subset of the Admin schema the simulator serves, typed as Shopify's reference types it.
# ``{legacy_input}`` and ``{legacy_quantity}`` hold what versions before 2026-04 still accept.
SDL = """
schema { query: QueryRoot mutation: Mutation }

"The simulator serves no query field: only __typename."
type QueryRoot

type Mutation {
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
}

"Makes a mutation safe to retry: a key seen before returns the first answer."
directive @idempotent(key: String!) on FIELD

scalar DateTime

input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventoryQuantityInput!]!
  {legacy_input}
}

input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  changeFromQuantity: Int
  {legacy_quantity}
}

type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}

type InventoryAdjustmentGroup {
  id: ID!
  createdAt: DateTime!
  reason: String!
  referenceDocumentUri: String
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}

type InventoryChange {
  name: String!
  delta: Int!
  quantityAfterChange: Int
  ledgerDocumentUri: String
  item: InventoryItem
  location: Location
}

type InventoryItem {
  id: ID!
  sku: String
  tracked: Boolean!
}

type Location {
  id: ID!
  name: String!
}

type InventorySetQuantitiesUserError {
  field: [String!]
  message: String!
  code: InventorySetQuantitiesUserErrorCode
}

enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  COMPARE_QUANTITY_REQUIRED
  COMPARE_QUANTITY_STALE
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW
  INVALID_REASON
  NON_MUTABLE_INVENTORY_ITEM
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
}
"""


@cache
def schema_for(modern: bool) -> GraphQLSchema:
    """The served schema: 2026-04 and later (``modern``), or the older versions with the deprecated pair."""
    sdl = SDL.replace("{legacy_input}", "" if modern else "ignoreCompareQuantity: Boolean")
    sdl = sdl.replace("{legacy_quantity}", "" if modern else "compareQuantity: Int")
    # assume_valid: a QueryRoot without fields is on purpose (graphql-core's schema check wants one)
    schema = build_schema(sdl, assume_valid=True)
    schema.mutation_type.fields["inventorySetQuantities"].resolve = _resolve_set_quantities
    schema.get_type("InventoryAdjustmentGroup").fields["changes"].resolve = _resolve_changes
    return schema


class Answer(Exception):
    """A complete GraphQL answer decided before (or instead of) running the operation."""

    def __init__(self, body: dict[str, Any]):
        super().__init__(json.dumps(body)[:200])
        self.body = body


def _error(message: str, code: str | None = None, node: Any = None, path: list | None = None,
           **extensions: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if node is not None and node.loc is not None:
        location = node.loc.source.get_location(node.loc.start)
        error["locations"] = [{"line": location.line, "column": location.column}]
    if path is not None:
        error["path"] = path
    if code is not None or extensions:
        error["extensions"] = ({"code": code} if code else {}) | extensions
    return error


def _gid(value: Any, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    if isinstance(value, str) and value.startswith(prefix) and value[len(prefix):].isdigit():
        return int(value[len(prefix):])
    return None


# ---------------------------------------------------------------------- Shopify's words for graphql-core's

def _label(node: Any) -> str | None:
    """How graphql-ruby names ``node`` in a validation error's ``path``."""
    if isinstance(node, OperationDefinitionNode):
        kind = node.operation.value
        return f"{kind} {node.name.value}" if node.name else kind
    if isinstance(node, FragmentDefinitionNode):
        return f"fragment {node.name.value}"
    if isinstance(node, FieldNode):
        return (node.alias or node.name).value
    if isinstance(node, InlineFragmentNode):
        return f"... on {node.type_condition.name.value}" if node.type_condition else "..."
    return None


class _Paths(Visitor):
    """For every node of a document, the path (operation, fields) that leads to it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.at: dict[int, list[str]] = {}

    def enter(self, node: Any, *_: Any) -> None:
        label = _label(node)
        if label is not None:
            self.stack.append(label)
        self.at[id(node)] = list(self.stack)

    def leave(self, node: Any, *_: Any) -> None:
        if _label(node) is not None:
            self.stack.pop()


def _shopify_validation_error(error: GraphQLError, document: DocumentNode, paths: dict[int, list[str]],
                              operation: OperationDefinitionNode | None) -> dict[str, Any]:
    """A graphql-core validation error as Shopify words it (graphql-ruby's message and code)."""
    formatted = dict(error.formatted)
    node = error.nodes[0] if error.nodes else None
    path = paths.get(id(node)) if node is not None else None
    message, code, extensions = error.message, None, {}
    by = "anonymous " + operation.operation.value if operation and not operation.name else \
        operation.name.value if operation else "the operation"
    if m := re.match(r"Cannot query field '(\w+)' on type '(\w+)'", message):
        field, type_name = m.groups()
        message, code = f"Field '{field}' doesn't exist on type '{type_name}'", "undefinedField"
        extensions = {"typeName": type_name, "fieldName": field}
    elif m := re.match(r"Unknown argument '(\w+)' on (field|directive) '(?:\w+\.|@)(\w+)'", message):
        argument, kind, name = m.groups()
        message, code = f"{kind.title()} '{name}' doesn't accept argument '{argument}'", "argumentNotAccepted"
        extensions = {"name": name, "typeName": kind.title(), "argumentName": argument}
    elif m := re.match(r"Argument '(@|\w+\.)(\w+)\((\w+):\)' of type '.*' is required", message):
        at, name, argument = m.groups()
        kind = "Directive" if at == "@" else "Field"
        message, code = f"{kind} '{name}' is missing required arguments: {argument}", "missingRequiredArguments"
        extensions = {"className": kind, "name": name, "arguments": argument}
    elif m := re.match(r"Unknown directive '@(\w+)'", message):
        message, code, extensions = f"Directive @{m[1]} is not defined", "undefinedDirective", {"directiveName": m[1]}
    elif m := re.match(r"Field '(\w+)' must not have a selection since type '([^']+)'", message):
        message, code = f"Selections can't be made on scalars (field '{m[1]}' returns {m[2]})", "selectionMismatch"
        extensions = {"nodeName": f"field '{m[1]}'"}
    elif m := re.match(r"Field '(\w+)' of type '([^']+)' must have a selection of subfields", message):
        message = (f"Field must have selections (field '{m[1]}' returns {m[2]} but has no selections. "
                   f"Did you mean '{m[1]} {{ ... }}'?)")
        code, extensions = "selectionMismatch", {"nodeName": f"field '{m[1]}'", "typeName": m[2].strip("[]!")}
    elif m := re.match(r"Unknown type '(\w+)'", message):
        variable = next((d.variable.name.value for op in document.definitions
                         if isinstance(op, OperationDefinitionNode) for d in op.variable_definitions or ()
                         if _named(d.type) is node), None)
        if variable is not None:
            message, code = f"{m[1]} isn't a defined input type (on ${variable})", "variableRequiresValidType"
            extensions = {"typeName": m[1], "variableName": variable}
        else:
            message, code = f"No such type {m[1]}, so it can't be a fragment condition", "undefinedType"
            extensions = {"typeName": m[1]}
    elif m := re.match(r"Unknown fragment '(\w+)'", message):
        message, code = f"Fragment {m[1]} was used, but not defined", "useAndDefineFragment"
        extensions = {"fragmentName": m[1]}
    elif m := re.match(r"Variable '\$(\w+)' is not defined", message):
        message, code = f"Variable ${m[1]} is used by {by} but not declared", "variableNotDefined"
        extensions = {"variableName": m[1]}
    elif m := re.match(r"Variable '\$(\w+)' is never used", message):
        message, code = f"Variable ${m[1]} is declared by {by} but not used", "variableNotUsed"
        extensions = {"variableName": m[1]}
    formatted["message"] = message
    if path:
        formatted["path"] = path
    if code is not None:
        formatted["extensions"] = {"code": code, **extensions}
    return formatted


def _named(type_node: Any) -> NamedTypeNode:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type
    return type_node


def _problem(error: GraphQLError, path: list, raw: Any) -> dict[str, Any]:
    """One of graphql-core's input-coercion errors as an entry of Shopify's ``problems`` list."""
    message = error.message
    value = raw
    for step in path:
        value = value[step] if isinstance(value, (dict, list)) else None
    if re.match(r"Expected (a )?value of non-null type .* (not to be None|to be provided)", message):
        return {"path": path, "explanation": "Expected value to not be null"}
    if m := re.match(r"Expected value of type '\w+' to include required field '(\w+)'", message):
        return {"path": [*path, m[1]], "explanation": "Expected value to not be null"}
    if m := re.match(r"Expected value of type '(\w+)' not to include unknown field '(\w+)'", message):
        return {"path": [*path, m[2]], "explanation": f"Field is not defined on {m[1]}"}
    if m := re.match(r"(\w+) cannot represent", message):
        return {"path": path, "explanation": f"Could not coerce value {json.dumps(value)} to {m[1]}"}
    if re.match(r"Expected value of type '\w+' to be an object", message):
        return {"path": path, "explanation": f"Expected {json.dumps(value)} to be a key-value object"}
    return {"path": path, "explanation": message}


# ---------------------------------------------------------------------- cost

def _cost(schema: GraphQLSchema, selection_set: SelectionSetNode | None, parent: Any,
          fragments: dict[str, FragmentDefinitionNode]) -> int:
    """The requested cost of a selection on ``parent``: 10 a mutation field, 1 an object below it."""
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            field = parent.fields.get(selection.name.value)
            named = get_named_type(field.type) if field is not None else None
            if not isinstance(named, GraphQLObjectType):
                continue  # scalars, enums, __typename and introspection cost nothing
            if parent is schema.mutation_type:
                total += MUTATION_COST
            elif (parent.name, selection.name.value) not in FREE:
                total += OBJECT_COST
            total += _cost(schema, selection.selection_set, named, fragments)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            total += _cost(schema, selection.selection_set,
                           schema.get_type(condition.name.value) if condition else parent, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            fragment = fragments[selection.name.value]
            total += _cost(schema, fragment.selection_set, schema.get_type(fragment.type_condition.name.value),
                           fragments)
    return total


# ---------------------------------------------------------------------- resolvers

class _Run:
    """What one request's resolvers share: the endpoint, the version and the points actually used."""

    def __init__(self, endpoint: ShopifyGraphQL, modern: bool):
        self.endpoint, self.modern, self.actual = endpoint, modern, 0


def _resolve_set_quantities(_root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    run: _Run = info.context
    return run.endpoint._set_quantities(info, input, run)


def _resolve_changes(group: dict[str, Any], _info: GraphQLResolveInfo, quantityNames: list[str] | None = None,
                     inventoryItemIds: list[str] | None = None, locationIds: list[str] | None = None) -> list[dict]:
    return [c for c in group["changes"] if (quantityNames is None or c["name"] in quantityNames)
            and (inventoryItemIds is None or c["item"]["id"] in inventoryItemIds)
            and (locationIds is None or c["location"]["id"] in locationIds)]


class ShopifyGraphQL:
    """The GraphQL endpoint of one simulated shop for tokens with ``scopes``."""

    def __init__(self, business: Business, scopes: Collection[str], bucket_for: Callable[[str], CostBucket]):
        self.business = business
        self.scopes = set(scopes)
        self.bucket_for = bucket_for
        self._idempotent: dict[str, tuple[str, dict[str, Any]]] = {}  # key -> (input fingerprint, payload)

    # ------------------------------------------------------------------ the request

    def answer(self, token: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer (always HTTP 200) to one request body."""
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str) or not query.strip():
            return {"errors": [_error("No query string was present")]}
        if not isinstance(variables, dict):
            return {"errors": [_error("Variables must be an object")]}
        try:
            document = parse(query)
        except GraphQLSyntaxError as exc:
            return {"errors": [exc.formatted]}
        modern = version >= IDEMPOTENCY_FROM
        schema = schema_for(modern)
        try:
            operation = self._operation(document, body.get("operationName"))
            if operation.operation.value == "subscription":
                raise Answer({"errors": [_error("Subscriptions are not supported by the Admin API", node=operation)]})
            errors = validate(schema, document)
            if errors:
                paths = _Paths()
                visit(document, paths)
                raise Answer({"errors": [_shopify_validation_error(e, document, paths.at, operation)
                                         for e in errors]})
            values = self._variables(schema, operation, variables)
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            self._check_inputs(schema, operation, values, modern)
            root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
            requested = _cost(schema, operation.selection_set, root, fragments)
            bucket = self.bucket_for(token)
            if requested > MAX_QUERY_COST:
                raise Answer({"errors": [_error(
                    f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                    "MAX_COST_EXCEEDED", cost=requested, maxCost=MAX_QUERY_COST)]})
            if not bucket.take(requested):
                raise Answer({"errors": [_error("Throttled", "THROTTLED", documentation=RATE_LIMITS_DOCS)],
                              "extensions": self._cost_extension(requested, None, bucket)})
            run = _Run(self, modern)
            result = execute(schema, document, context_value=run, variable_values=variables,
                             operation_name=_name(operation))
            bucket.refund(requested - run.actual)
            answer: dict[str, Any] = {}
            if result.errors:
                answer["errors"] = [e.formatted for e in result.errors]
            answer["data"] = result.data
            answer["extensions"] = self._cost_extension(requested, run.actual, bucket)
            return answer
        except Answer as done:
            return done.body

    @staticmethod
    def _cost_extension(requested: int, actual: int | None, bucket: CostBucket) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": {
            "maximumAvailable": float(bucket.capacity), "currentlyAvailable": int(bucket.available),
            "restoreRate": float(bucket.restore_rate)}}}

    @staticmethod
    def _operation(document: DocumentNode, name: Any) -> OperationDefinitionNode:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not operations:
            raise Answer({"errors": [_error("No operations in the document")]})
        operation = get_operation_ast(document, name or None)
        if operation is None:
            raise Answer({"errors": [_error(f'No operation named "{name}"' if name
                                            else "An operation name is required")]})
        return operation

    @staticmethod
    def _variables(schema: GraphQLSchema, operation: OperationDefinitionNode, inputs: dict[str, Any]) -> Any:
        """The operation's variables coerced by graphql-core; refused as Shopify words it (INVALID_VARIABLE)."""
        coerced = get_variable_values(schema, operation.variable_definitions or (), inputs, hide_suggestions=True)
        if not isinstance(coerced, list):
            return coerced
        errors = []
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            type_ = type_from_ast(schema, definition.type)
            problems: list[dict[str, Any]] = []
            if inputs.get(name) is None:
                if definition.type.kind == "non_null_type" and definition.default_value is None:
                    problems.append({"path": [], "explanation": "Expected value to not be null"})
            else:
                validate_input_value(inputs[name], type_,
                                     lambda error, path, raw=inputs[name], into=problems: into.append(_problem(error, path, raw)),
                                     hide_suggestions=True)
            if not problems:
                continue
            first = problems[0]
            where = ".".join(str(p) for p in first["path"])
            message = f"Variable ${name} of type {type_} was provided invalid value"
            if where:
                message += f" for {where} ({first['explanation']})"
            errors.append(_error(message, "INVALID_VARIABLE", node=definition, value=inputs.get(name),
                                 problems=problems))
        raise Answer({"errors": errors or [e.formatted for e in coerced]})

    @staticmethod
    def _check_inputs(schema: GraphQLSchema, operation: OperationDefinitionNode, values: Any, modern: bool) -> None:
        """Refusals of the whole request before it runs: more than 250 quantities, a quantity without
        ``changeFromQuantity`` from 2026-04."""
        if operation.operation.value != "mutation":
            return
        field_def = schema.mutation_type.fields["inventorySetQuantities"]
        for node in operation.selection_set.selections:
            if not isinstance(node, FieldNode) or node.name.value != "inventorySetQuantities":
                continue
            key = (node.alias or node.name).value
            quantities = get_argument_values(field_def, node, values)["input"]["quantities"]
            if len(quantities) > MAX_QUANTITIES:
                raise Answer({"errors": [_error(
                    f"The input array size of {len(quantities)} is greater than the maximum allowed of "
                    f"{MAX_QUANTITIES}.", "MAX_INPUT_SIZE_EXCEEDED", node=node, path=[key, "input", "quantities"])]})
            for n, quantity in enumerate(quantities):
                if modern and "changeFromQuantity" not in quantity:
                    raise Answer({"errors": [_error(
                        "InventoryQuantityInput must include the following argument: changeFromQuantity.",
                        "BAD_REQUEST", node=node, path=[key, "input", "quantities", str(n)])]})

    # ------------------------------------------------------------------ the mutation

    def _set_quantities(self, info: GraphQLResolveInfo, given: dict[str, Any], run: _Run) -> dict[str, Any]:
        node = info.field_nodes[0]
        if "write_inventory" not in self.scopes:
            raise GraphQLError(f"Access denied for inventorySetQuantities field. Required access: {REQUIRED_ACCESS}",
                               extensions={"code": "ACCESS_DENIED",
                                           "documentation": "https://shopify.dev/api/usage/access-scopes",
                                           "requiredAccess": REQUIRED_ACCESS})
        idempotent = get_directive_values(info.schema.get_directive("idempotent"), node, info.variable_values)
        key = idempotent["key"] if idempotent is not None else None
        if idempotent is not None and not key.strip():
            raise GraphQLError("The idempotency key must be a non-empty string", extensions={"code": "BAD_REQUEST"})
        if idempotent is None and run.modern:
            raise GraphQLError("The @idempotent directive is required for this mutation but was not provided.",
                               extensions={"code": "BAD_REQUEST"})
        fingerprint = hashlib.sha256(json.dumps(given, sort_keys=True).encode()).hexdigest()
        if key is not None and key in self._idempotent:
            seen, payload = self._idempotent[key]
            run.actual += MUTATION_COST
            if seen != fingerprint:
                return {"inventoryAdjustmentGroup": None, "userErrors": [{
                    "field": None, "message": "The same idempotency key cannot be used with different operation "
                                              "parameters.", "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}]}
            return payload
        payload = self._apply(given, run.modern)
        if key is not None:
            self._idempotent[key] = (fingerprint, payload)
        # what was asked below the mutation costs only when it came back (no group: nothing to pay for)
        run.actual += MUTATION_COST
        if payload["inventoryAdjustmentGroup"] is not None:
            run.actual += _cost(info.schema, node.selection_set, info.return_type, info.fragments)
        return payload

    def _apply(self, given: dict[str, Any], modern: bool) -> dict[str, Any]:
        """Check every quantity, then set them all, or none when any is refused."""
        shop = self.business.shop
        errors: list[dict[str, Any]] = []
        if given["name"] not in ("available", "on_hand"):
            errors.append({"field": ["input", "name"], "message": "The quantity name must be either 'available' or "
                                                                  "'on_hand'.", "code": "INVALID_NAME"})
        if given["reason"] not in REASONS:
            errors.append({"field": ["input", "reason"], "message": "The specified reason is invalid.",
                           "code": "INVALID_REASON"})
        if not modern and not given.get("ignoreCompareQuantity") and any(
                q.get("compareQuantity") is None and "changeFromQuantity" not in q for q in given["quantities"]):
            errors.append({"field": ["input", "ignoreCompareQuantity"], "message": "The compareQuantity argument "
                           "must be given to each quantity or ignored using ignoreCompareQuantity.",
                           "code": "COMPARE_QUANTITY_REQUIRED"})
        seen: set[tuple[int | None, int | None]] = set()
        plan: list[tuple[int, int]] = []
        for n, q in enumerate(given["quantities"]):
            where = ["input", "quantities", str(n)]
            item, location = _gid(q["inventoryItemId"], "InventoryItem"), _gid(q["locationId"], "Location")
            if item is None or item not in shop.inventory_items:
                errors.append({"field": [*where, "inventoryItemId"], "code": "INVALID_INVENTORY_ITEM",
                               "message": "The specified inventory item could not be found."})
                continue
            if location != LOCATION_ID:
                errors.append({"field": [*where, "locationId"], "code": "INVALID_LOCATION",
                               "message": "The specified location could not be found."})
                continue
            if (item, location) in seen:
                errors.append({"field": where, "code": "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                               "message": "The combination of inventoryItemId and locationId must be unique."})
                continue
            seen.add((item, location))
            current = shop.level(item)["available"]
            if current is None:
                errors.append({"field": [*where, "inventoryItemId"], "code": "NON_MUTABLE_INVENTORY_ITEM",
                               "message": "Inventory item does not have inventory tracking enabled"})
                continue
            if q["quantity"] > QUANTITY_LIMIT:
                errors.append({"field": [*where, "quantity"], "code": "INVALID_QUANTITY_TOO_HIGH",
                               "message": "The total quantity can't be higher than 1,000,000,000."})
                continue
            if q["quantity"] < -QUANTITY_LIMIT:
                errors.append({"field": [*where, "quantity"], "code": "INVALID_QUANTITY_TOO_LOW",
                               "message": "The total quantity can't be lower than -1,000,000,000."})
                continue
            legacy = not modern and "changeFromQuantity" not in q
            expected = (None if given.get("ignoreCompareQuantity") else q.get("compareQuantity")) if legacy \
                else q.get("changeFromQuantity")
            if expected is not None and expected != current:
                code = "COMPARE_QUANTITY_STALE" if legacy else "CHANGE_FROM_QUANTITY_STALE"
                name = "compareQuantity" if legacy else "changeFromQuantity"
                errors.append({"field": [*where, name], "code": code,
                               "message": f"The {name} value does not match persisted value."})
                continue
            plan.append((item, q["quantity"]))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = []
        for item, quantity in plan:
            before = shop.level(item)["available"]
            self.business.shopify_set_level(item, quantity)
            for name in ("available", "on_hand"):
                changes.append({"name": name, "delta": quantity - before, "quantityAfterChange": quantity,
                                "ledgerDocumentUri": None, "item": {"id": f"gid://shopify/InventoryItem/{item}",
                                                                    "tracked": True},
                                "location": {"id": f"gid://shopify/Location/{LOCATION_ID}",
                                             "name": shop.location["name"]}})
        group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{uuid.uuid4().int % 10**13}",
                 "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "reason": given["reason"],
                 "referenceDocumentUri": given.get("referenceDocumentUri"), "changes": changes}
        return {"inventoryAdjustmentGroup": group, "userErrors": []}



def _name(operation: OperationDefinitionNode) -> str | None:
    return operation.name.value if operation.name else None
