"""Shopify's GraphQL Admin API, as far as Puente writes through it: ``inventorySetQuantities``.

``POST /admin/api/{version}/graphql.json`` with ``{"query": …, "variables": …, "operationName": …}``
(or the bare document as ``application/graphql``), authenticated by ``X-Shopify-Access-Token`` like
the REST endpoints (a wrong token gets the same 401). What it reproduces, per Shopify's GraphQL
Admin reference (the mutation, its input and payload types, the user-error codes), the rate-limit
and idempotency guides and the 2026-04 changelog:

- The document is parsed (``graphql_lite``): a syntax error is a top-level error with its
  location. The simulated schema holds one root field, ``Mutation.inventorySetQuantities``; any
  other field (a query's ``shop``, another mutation) is refused as the real API refuses a field it
  does not have (``undefinedField``), so a client cannot believe something worked that was never
  simulated. Unknown arguments, directives and subfields are refused the same way.
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
- At most 250 quantities (``MAX_INPUT_SIZE_EXCEEDED``, nothing set). Per-quantity problems are
  ``userErrors`` (``field`` is the path into the input, indices as strings, e.g. ``["input",
  "quantities", "3", "inventoryItemId"]``): an unknown item (``INVALID_INVENTORY_ITEM``) or location
  (``INVALID_LOCATION``), an item and location given twice, a quantity out of range. The mutation
  is all or nothing: with any user error nothing is set and ``inventoryAdjustmentGroup`` is null.
  An item whose quantity the shop does not track (``inventory_management: null``) is refused as
  ``NON_MUTABLE_INVENTORY_ITEM`` with the REST endpoint's words (Shopify's reference does not say
  which code it uses; the simulator keeps the REST refusal's meaning).
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
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from puente.simulators import graphql_lite as gql
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

# The simulated schema: per object type, its fields and the type each returns (None: a scalar or
# an enum, free). ``changes`` takes filters, ``__typename`` is everywhere.
SCHEMA: dict[str, dict[str, str | None]] = {
    "Mutation": {"inventorySetQuantities": "InventorySetQuantitiesPayload"},
    "QueryRoot": {},
    "InventorySetQuantitiesPayload": {"inventoryAdjustmentGroup": "InventoryAdjustmentGroup",
                                      "userErrors": "InventorySetQuantitiesUserError"},
    "InventoryAdjustmentGroup": {"id": None, "createdAt": None, "reason": None, "referenceDocumentUri": None,
                                 "changes": "InventoryChange"},
    "InventoryChange": {"name": None, "delta": None, "quantityAfterChange": None, "ledgerDocumentUri": None,
                        "item": "InventoryItem", "location": "Location"},
    "InventoryItem": {"id": None, "sku": None, "tracked": None},
    "Location": {"id": None, "name": None},
    "InventorySetQuantitiesUserError": {"field": None, "message": None, "code": None},
}
ARGUMENTS = {("Mutation", "inventorySetQuantities"): {"input"},
             ("InventoryAdjustmentGroup", "changes"): {"inventoryItemIds", "locationIds", "quantityNames"}}
FREE = {("InventorySetQuantitiesPayload", "userErrors")}  # payload errors cost nothing


class Answer(Exception):
    """A complete GraphQL answer decided before (or instead of) running the operation."""

    def __init__(self, body: dict[str, Any]):
        super().__init__(json.dumps(body)[:200])
        self.body = body


def _error(message: str, code: str | None = None, node: Any = None, path: list | None = None,
           **extensions: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if node is not None:
        error["locations"] = [{"line": node.line, "column": node.column}]
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
            document = gql.parse(query)
        except gql.GraphQLSyntaxError as exc:
            return {"errors": [{"message": str(exc), "locations": [{"line": exc.line, "column": exc.column}]}]}
        try:
            operation = self._operation(document, body.get("operationName"))
            root = {"query": "QueryRoot", "mutation": "Mutation"}.get(operation.kind)
            if root is None:
                raise Answer({"errors": [_error("Subscriptions are not supported by the Admin API", node=operation)]})
            fields = self._validate(document, operation, root)
            requested = self._cost(document, fields, root)
            bucket = self.bucket_for(token)
            if requested > MAX_QUERY_COST:
                raise Answer({"errors": [_error(
                    f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                    "MAX_COST_EXCEEDED", cost=requested, maxCost=MAX_QUERY_COST)]})
            if not bucket.take(requested):
                raise Answer({"errors": [_error("Throttled", "THROTTLED", documentation=RATE_LIMITS_DOCS)],
                              "extensions": self._cost_extension(requested, None, bucket)})
            data, errors, actual = self._execute(document, operation, fields, variables, version, requested)
            bucket.refund(requested - actual)
            answer: dict[str, Any] = {}
            if errors:
                answer["errors"] = errors
            answer["data"] = data
            answer["extensions"] = self._cost_extension(requested, actual, bucket)
            return answer
        except Answer as done:
            return done.body

    @staticmethod
    def _cost_extension(requested: int, actual: int | None, bucket: CostBucket) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": {
            "maximumAvailable": float(bucket.capacity), "currentlyAvailable": int(bucket.available),
            "restoreRate": float(bucket.restore_rate)}}}

    @staticmethod
    def _operation(document: gql.Document, name: Any) -> gql.Operation:
        operations = document.operations
        if not operations:
            raise Answer({"errors": [_error("No operations in the document")]})
        if name:
            found = [op for op in operations if op.name == name]
            if not found:
                raise Answer({"errors": [_error(f'No operation named "{name}"')]})
            return found[0]
        if len(operations) > 1:
            raise Answer({"errors": [_error("An operation name is required")]})
        return operations[0]

    # ------------------------------------------------------------------ validation and cost

    def _validate(self, document: gql.Document, operation: gql.Operation, root: str) -> list[gql.Field]:
        errors: list[dict[str, Any]] = []
        label = f"{operation.kind} {operation.name}" if operation.name else operation.kind
        for definition in operation.variables:
            known = {"InventorySetQuantitiesInput", "String", "ID", "Int", "Boolean", "Float"}
            named = definition.type
            while named.of is not None:
                named = named.of
            if named.name not in known:
                errors.append(_error(f"{named.name} isn't a defined input type (on ${definition.name})",
                                     "variableRequiresValidType", node=operation, typeName=named.name,
                                     variableName=definition.name))

        def walk(selections: list[gql.Selection], type_name: str, path: list[str]) -> list[gql.Field]:
            try:
                fields = gql.flatten(selections, type_name, document.fragments)
            except KeyError as missing:
                errors.append(_error(f"Fragment {missing.args[0]} was used, but not defined", "useAndDefineFragment",
                                     path=path, fragmentName=missing.args[0]))
                return []
            for f in fields:
                here = [*path, f.key]
                if f.name == "__typename":
                    continue
                known = SCHEMA.get(type_name, {})
                if f.name not in known:
                    errors.append(_error(f"Field '{f.name}' doesn't exist on type '{type_name}'", "undefinedField",
                                         node=f, path=here, typeName=type_name, fieldName=f.name))
                    continue
                allowed = ARGUMENTS.get((type_name, f.name), set())
                for argument in f.arguments:
                    if argument not in allowed:
                        errors.append(_error(f"Field '{f.name}' doesn't accept argument '{argument}'",
                                             "argumentNotAccepted", node=f, path=here, name=f.name,
                                             typeName="Field", argumentName=argument))
                if (type_name, f.name) == ("Mutation", "inventorySetQuantities") and "input" not in f.arguments:
                    errors.append(_error("Field 'inventorySetQuantities' is missing required arguments: input",
                                         "missingRequiredArguments", node=f, path=here, className="Field",
                                         name="inventorySetQuantities", arguments="input"))
                for directive in f.directives:
                    if directive.name != "idempotent" or (type_name, f.name) != ("Mutation", "inventorySetQuantities"):
                        errors.append(_error(f"Directive @{directive.name} is not defined"
                                             if directive.name != "idempotent" else
                                             f"'@idempotent' can't be applied to {f.name}", "undefinedDirective",
                                             node=directive, path=here, directiveName=directive.name))
                    elif "key" not in directive.arguments:
                        errors.append(_error("Directive 'idempotent' is missing required arguments: key",
                                             "missingRequiredArguments", node=directive, path=here,
                                             className="Directive", name="idempotent", arguments="key"))
                child = known[f.name]
                if child is None and f.selections:
                    errors.append(_error(f"Selections can't be made on scalars (field '{f.name}' returns a scalar)",
                                         "selectionMismatch", node=f, path=here, nodeName=f"field '{f.name}'"))
                elif child is not None and not f.selections:
                    errors.append(_error(f"Field must have selections (field '{f.name}' returns {child} but has no "
                                         "selections. Did you mean '" + f.name + " { ... }'?)", "selectionMismatch",
                                         node=f, path=here, nodeName=f"field '{f.name}'", typeName=child))
                elif child is not None:
                    walk(f.selections, child, here)
            return fields

        fields = walk(operation.selections, root, [label])
        if errors:
            raise Answer({"errors": errors})
        return fields

    def _cost(self, document: gql.Document, fields: list[gql.Field], type_name: str) -> int:
        total = 0
        for f in fields:
            child = SCHEMA.get(type_name, {}).get(f.name)
            if f.name == "__typename" or child is None:
                continue
            if type_name == "Mutation":
                total += MUTATION_COST
            elif (type_name, f.name) not in FREE:
                total += OBJECT_COST
            total += self._cost(document, gql.flatten(f.selections, child, document.fragments), child)
        return total

    # ------------------------------------------------------------------ execution

    def _execute(self, document: gql.Document, operation: gql.Operation, fields: list[gql.Field],
                 variables: dict[str, Any], version: str, requested: int) -> tuple[dict | None, list, int]:
        known = {d.name for d in operation.variables}
        values = {d.name: d.default for d in operation.variables if d.has_default}
        values |= {k: v for k, v in variables.items() if k in known}
        for definition in operation.variables:
            if definition.type.non_null and values.get(definition.name) is None:
                raise Answer({"errors": [_error(
                    f"Variable ${definition.name} of type {definition.type} was provided invalid value",
                    "INVALID_VARIABLE", node=operation, value=None,
                    problems=[{"path": [], "explanation": "Expected value to not be null"}])]})
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        actual = 0
        for f in fields:
            if f.name == "__typename":
                data[f.key] = "Mutation" if operation.kind == "mutation" else "QueryRoot"
                continue
            payload, error, cost = self._set_quantities(document, f, values, version)
            data[f.key] = payload
            actual += cost
            if error:
                errors.append(error)
        return data, errors, actual

    def _set_quantities(self, document: gql.Document, f: gql.Field, variables: dict[str, Any],
                        version: str) -> tuple[dict | None, dict | None, int]:
        path = [f.key]
        if "write_inventory" not in self.scopes:
            return None, _error(f"Access denied for inventorySetQuantities field. Required access: {REQUIRED_ACCESS}",
                                "ACCESS_DENIED", node=f, path=path,
                                documentation="https://shopify.dev/api/usage/access-scopes",
                                requiredAccess=REQUIRED_ACCESS), 0
        try:
            raw = gql.resolve(f.arguments["input"], variables)
        except gql.Unresolved as missing:
            raise Answer({"errors": [_error(f"Variable ${missing.name} is used by anonymous mutation but not declared",
                                            "variableNotDefined", node=f, variableName=missing.name)]}) from None
        modern = version >= IDEMPOTENCY_FROM
        given = self._check_input(raw, modern, f)
        quantities = given["quantities"]
        if len(quantities) > MAX_QUANTITIES:
            raise Answer({"errors": [_error(
                f"The input array size of {len(quantities)} is greater than the maximum allowed of {MAX_QUANTITIES}.",
                "MAX_INPUT_SIZE_EXCEEDED", node=f, path=[f.key, "input", "quantities"])]})
        key = None
        idempotent = next((d for d in f.directives if d.name == "idempotent"), None)
        if idempotent is not None:
            key = gql.resolve(idempotent.arguments["key"], variables)
            if not isinstance(key, str) or not key.strip():
                return None, _error("The idempotency key must be a non-empty string", "BAD_REQUEST", node=idempotent,
                                    path=path), 0
        elif modern:
            return None, _error("The @idempotent directive is required for this mutation but was not provided.",
                                "BAD_REQUEST", node=f, path=path), 0
        fingerprint = hashlib.sha256(json.dumps(given, sort_keys=True).encode()).hexdigest()
        if key is not None and key in self._idempotent:
            seen, payload = self._idempotent[key]
            if seen != fingerprint:
                payload = {"inventoryAdjustmentGroup": None, "userErrors": [{
                    "field": None, "message": "The same idempotency key cannot be used with different operation "
                                              "parameters.", "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}]}
            return self._shape(document, f, payload, variables), None, MUTATION_COST
        payload = self._apply(given, modern)
        if key is not None:
            self._idempotent[key] = (fingerprint, payload)
        # what was asked below the mutation costs only when it came back (no group: nothing to pay for)
        below = self._cost(document, gql.flatten(f.selections, "InventorySetQuantitiesPayload", document.fragments),
                           "InventorySetQuantitiesPayload")
        cost = MUTATION_COST + (below if payload["inventoryAdjustmentGroup"] is not None else 0)
        return self._shape(document, f, payload, variables), None, cost

    def _check_input(self, raw: Any, modern: bool, f: gql.Field) -> dict[str, Any]:
        """The input, checked as GraphQL coerces an ``InventorySetQuantitiesInput!``."""
        problems: list[dict[str, Any]] = []
        top = {"name": "String!", "reason": "String!", "referenceDocumentUri": "String",
               "quantities": "[InventoryQuantityInput!]!"}
        item = {"inventoryItemId": "ID!", "locationId": "ID!", "quantity": "Int!", "changeFromQuantity": "Int"}
        if not modern:
            top["ignoreCompareQuantity"] = "Boolean"
            item = item | {"compareQuantity": "Int"}  # 2026-01: changeFromQuantity is new, compareQuantity deprecated

        def check(obj: Any, shape: dict[str, str], where: list, type_name: str) -> None:
            if not isinstance(obj, dict):
                problems.append({"path": where, "explanation": f"Expected {obj!r} to be a key-value object"})
                return
            for name in obj:
                if name not in shape:
                    problems.append({"path": [*where, name], "explanation": f"Field is not defined on {type_name}"})
            for name, kind in shape.items():
                value = obj.get(name)
                if value is None:
                    if kind.endswith("!"):
                        problems.append({"path": [*where, name], "explanation": "Expected value to not be null"})
                    continue
                base = kind.strip("[]!")
                if base in ("String", "ID") and not isinstance(value, str):
                    problems.append({"path": [*where, name], "explanation": f"Could not coerce value {value!r} to "
                                                                          f"{base}"})
                elif base == "Int" and (isinstance(value, bool) or not isinstance(value, int)):
                    problems.append({"path": [*where, name], "explanation": f"Could not coerce value {value!r} to Int"})
                elif base == "Boolean" and not isinstance(value, bool):
                    problems.append({"path": [*where, name], "explanation": f"Could not coerce value {value!r} to "
                                                                          "Boolean"})
        check(raw, top, [], "InventorySetQuantitiesInput")
        quantities = raw.get("quantities") if isinstance(raw, dict) else None
        if isinstance(quantities, dict):
            quantities = [quantities]  # GraphQL coerces a single value into a one-item list
        if isinstance(quantities, list):
            for n, quantity in enumerate(quantities):
                check(quantity, item, ["quantities", n], "InventoryQuantityInput")
                if modern and isinstance(quantity, dict) and "changeFromQuantity" not in quantity:
                    raise Answer({"errors": [_error(
                        "InventoryQuantityInput must include the following argument: changeFromQuantity.",
                        "BAD_REQUEST", node=f, path=[f.key, "input", "quantities", str(n)])]})
        elif quantities is not None:
            problems.append({"path": ["quantities"], "explanation": "Expected a list"})
        if problems:
            first = problems[0]
            where = ".".join(str(p) for p in first["path"])
            raise Answer({"errors": [_error(
                f"Variable $input of type InventorySetQuantitiesInput! was provided invalid value for {where} "
                f"({first['explanation']})", "INVALID_VARIABLE", node=f, value=raw, problems=problems)]})
        return {**raw, "quantities": quantities}

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

    def _shape(self, document: gql.Document, f: gql.Field, payload: dict[str, Any],
               variables: dict[str, Any]) -> dict[str, Any]:
        """The payload as the client's selection asks for it (aliases, filters on ``changes``)."""

        def select(value: Any, selections: list[gql.Selection], type_name: str) -> Any:
            if value is None:
                return None
            if isinstance(value, list):
                return [select(v, selections, type_name) for v in value]
            out: dict[str, Any] = {}
            for field in gql.flatten(selections, type_name, document.fragments):
                if field.name == "__typename":
                    out[field.key] = type_name
                    continue
                child = SCHEMA[type_name][field.name]
                found = value.get(field.name)
                if field.name == "changes" and isinstance(found, list):
                    try:
                        found = _filter_changes(found, gql.resolve(field.arguments, variables))
                    except gql.Unresolved:
                        pass
                out[field.key] = select(found, field.selections, child) if child else found
            return out

        return select(payload, f.selections, "InventorySetQuantitiesPayload")


def _filter_changes(changes: list[dict], arguments: dict[str, Any]) -> list[dict]:
    names = arguments.get("quantityNames")
    items = arguments.get("inventoryItemIds")
    return [c for c in changes if (names is None or c["name"] in names)
            and (items is None or c["item"]["id"] in items)]
