"""The Power Automate custom connector: the app's OpenAPI 3.1 document rewritten as Swagger 2.0.

Power Platform imports custom connectors as OpenAPI 2.0 only. The conversion keeps the operations
tagged ``invoices``, sends files as JSON with base64 ``content`` (what a flow's "File Content" gives;
Power Automate handles multipart bodies poorly), turns ``anyOf [X, null]`` into ``X`` with
``x-nullable``, adds ``x-ms-summary`` labels, and declares the ``X-API-Key`` header as the connection's
credential. A 202 with a Location header from SubmitInvoice lets the flow poll GetInvoiceJob by itself
(the asynchronous pattern), so no loop is needed in the flow.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI

from docintel.api.invoices import API_KEY_HEADER
from docintel.invoices.models import FIELD_NAMES, ITEM_FIELD_NAMES

CONNECTOR_TAG = "invoices"
_SCHEMA_REF = "#/components/schemas/"
_DEFINITION_REF = "#/definitions/"
# Swagger 2.0 schema keywords; anything else from JSON Schema 2020-12 is dropped.
_SCHEMA_KEYS = frozenset(
    {
        "$ref", "format", "title", "description", "default", "multipleOf", "maximum", "exclusiveMaximum",
        "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
        "maxProperties", "minProperties", "required", "enum", "type", "items", "allOf", "properties",
        "additionalProperties", "readOnly", "example",
    }
)  # fmt: skip
_METHODS = ("get", "put", "post", "delete", "patch")


def _label(name: str) -> str:
    """A human label from a property name: callback_url -> Callback url, InvoiceId stays."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def convert_schema(schema: Any) -> Any:
    """One JSON Schema (OpenAPI 3.1 flavour) as a Swagger 2.0 schema."""
    if isinstance(schema, list):
        return [convert_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    nullable = False
    for keyword in ("anyOf", "oneOf"):
        options = schema.pop(keyword, None)
        if options is None:
            continue
        real = [option for option in options if option != {"type": "null"}]
        nullable = len(real) < len(options)
        if len(real) == 1:
            merged = {**real[0], **{k: v for k, v in schema.items() if k not in real[0]}}
            schema = merged
        # Several real alternatives (a string or a mapping): Swagger 2.0 cannot say so; leave it untyped.
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if isinstance(schema.get("type"), list):
        types = [kind for kind in schema["type"] if kind != "null"]
        nullable = nullable or len(types) < len(schema["type"])
        schema["type"] = types[0] if len(types) == 1 else "string"
    if schema.get("format") == "binary":
        schema["type"], schema["format"] = "string", "byte"
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
        # A $ref in Swagger 2.0 must stand alone: siblings (descriptions) are ignored or rejected.
        return {"$ref": _DEFINITION_REF + ref.removeprefix(_SCHEMA_REF)}
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS:
            continue
        if key == "properties":
            converted[key] = {name: convert_schema(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "allOf"):
            converted[key] = convert_schema(value) if not isinstance(value, bool) else value
        else:
            converted[key] = value
    if nullable and "$ref" not in converted:
        converted["x-nullable"] = True
    if "title" in converted and "x-ms-summary" not in converted:
        converted["x-ms-summary"] = converted["title"]
    return converted


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = convert_schema(parameter.get("schema", {}))
    converted: dict[str, Any] = {
        "name": parameter["name"],
        "in": parameter["in"],
        "required": bool(parameter.get("required", parameter["in"] == "path")),
        "description": parameter.get("description", schema.get("description", "")),
        "x-ms-summary": _label(parameter["name"]),
    }
    for key in ("type", "format", "default", "minimum", "maximum", "pattern", "enum"):
        if key in schema:
            converted[key] = schema[key]
    converted.setdefault("type", "string")
    if parameter["in"] == "query":
        converted["x-ms-visibility"] = "advanced"
    return converted


def _body_parameter(request_body: dict[str, Any]) -> dict[str, Any] | None:
    content = request_body.get("content", {})
    media = content.get("application/json")
    if media is None:
        return None
    schema = convert_schema(media.get("schema", {}))
    for name, prop in schema.get("properties", {}).items():
        prop.setdefault("x-ms-summary", _label(name))
    if "content" in schema.get("properties", {}):
        schema["properties"]["content"].update({"format": "byte", "x-ms-summary": "File content"})
    return {
        "name": "body",
        "in": "body",
        "required": bool(request_body.get("required", False)),
        "schema": schema,
    }


def _responses(responses: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for status, response in responses.items():
        item: dict[str, Any] = {"description": response.get("description", "")}
        media = response.get("content", {}).get("application/json")
        if media is not None and "HTTPValidationError" in str(media.get("schema")):
            continue  # FastAPI's own 422 shape; ours answer with ErrorBody, declared where they occur
        if media is not None and media.get("schema"):
            item["schema"] = convert_schema(media["schema"])
        if status == "202":
            item["headers"] = {
                "Location": {"type": "string", "description": "URL of the job to poll"},
                "Retry-After": {"type": "integer", "description": "Seconds to wait before polling"},
            }
        converted[status] = item
    return converted


def _operation(operation: dict[str, Any]) -> dict[str, Any]:
    parameters = [_parameter(parameter) for parameter in operation.get("parameters", [])]
    consumes: list[str] = []
    if "requestBody" in operation:
        body = _body_parameter(operation["requestBody"])
        if body is not None:
            parameters.append(body)
            consumes = ["application/json"]
    converted: dict[str, Any] = {
        "operationId": operation["operationId"],
        "summary": operation.get("summary", operation["operationId"]),
        "description": operation.get("description", ""),
        "tags": operation.get("tags", []),
        "parameters": parameters,
        "produces": ["application/json"],
        "responses": _responses(operation.get("responses", {})),
        "security": [{"ApiKey": []}],
    }
    if consumes:
        converted["consumes"] = consumes
    return converted


def _name_invoice_fields(definitions: dict[str, Any]) -> None:
    """Spell out the field names of the fields mappings, so a flow's dynamic content lists each one.

    ``auto_accept`` (per invoice and per field) is shown first in the designer: it is what a flow's condition
    routes on (post it, or send it to a person).
    """
    for model, names in (("InvoiceResult", FIELD_NAMES), ("InvoiceItem", ITEM_FIELD_NAMES)):
        fields = definitions.get(model, {}).get("properties", {}).get("fields")
        if fields is not None:
            fields["properties"] = {name: {"$ref": f"{_DEFINITION_REF}InvoiceField"} for name in names}
    for model in ("InvoiceResult", "InvoiceField"):
        auto_accept = definitions.get(model, {}).get("properties", {}).get("auto_accept")
        if auto_accept is not None:
            auto_accept["x-ms-visibility"] = "important"


def build_connector(app: FastAPI, base_url: str, *, title: str = "docintel invoices") -> dict[str, Any]:
    """The Swagger 2.0 document of the app's invoice operations, for a server at ``base_url``."""
    spec = copy.deepcopy(app.openapi())
    address = urlsplit(base_url)
    if address.scheme not in ("http", "https") or not address.netloc:
        raise ValueError("base_url must be an absolute http(s) URL, e.g. https://docintel.council.example")
    paths: dict[str, Any] = {}
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None or CONNECTOR_TAG not in operation.get("tags", []):
                continue
            paths.setdefault(path, {})[method] = _operation(operation)
    definitions = {
        name: convert_schema(schema)
        for name, schema in spec.get("components", {}).get("schemas", {}).items()
        if name not in {"HTTPValidationError", "ValidationError"}
    }
    _name_invoice_fields(definitions)
    info = spec.get("info", {})
    return {
        "swagger": "2.0",
        "info": {
            "title": title,
            "description": info.get("description", "").strip()[:1000] or title,
            "version": str(info.get("version", "1.0")),
            "contact": {"name": "docintel"},
        },
        "host": address.netloc,
        "basePath": address.path.rstrip("/") or "/",
        "schemes": [address.scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": definitions,
        "parameters": {},
        "responses": {},
        "securityDefinitions": {"ApiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}},
        "security": [{"ApiKey": []}],
        "tags": [{"name": CONNECTOR_TAG, "description": "Invoice field extraction"}],
        "x-ms-connector-metadata": [
            {"propertyName": "Website", "propertyValue": f"{address.scheme}://{address.netloc}"},
            {"propertyName": "Categories", "propertyValue": "AI;Productivity"},
        ],
    }
