"""The Power Automate custom connector: Swagger 2.0 generated from the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from docintel.api.commands import connector_command
from docintel.api.connector import build_connector, convert_schema
from docintel.invoices.models import FIELD_NAMES


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@pytest.fixture
def connector(app: FastAPI) -> dict[str, Any]:
    return build_connector(app, "https://docintel.council.example/api")


def test_connector_is_swagger_2(connector: dict[str, Any]) -> None:
    assert connector["swagger"] == "2.0"
    assert connector["host"] == "docintel.council.example"
    assert connector["basePath"] == "/api"
    assert connector["schemes"] == ["https"]
    assert connector["securityDefinitions"] == {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
    assert set(connector["paths"]) == {"/v1/invoices", "/v1/jobs/{job_id}", "/v1/invoices/{job_id}/corrections"}
    operation_ids = {op["operationId"] for item in connector["paths"].values() for op in item.values()}
    assert operation_ids == {"SubmitInvoice", "GetInvoiceJob", "CorrectInvoice"}
    nodes = list(_walk(connector))
    # Nothing OpenAPI 3 only: no anyOf/oneOf, no nullable type lists, no components refs, no requestBody.
    assert not any(key in node for node in nodes for key in ("anyOf", "oneOf", "requestBody", "const", "$defs"))
    assert not any(isinstance(node.get("type"), list) for node in nodes)
    refs = {node["$ref"] for node in nodes if "$ref" in node}
    assert refs and all(ref.startswith("#/definitions/") for ref in refs)
    assert {ref.removeprefix("#/definitions/") for ref in refs} <= set(connector["definitions"])
    assert all(len(node) == 1 for node in nodes if "$ref" in node)  # a Swagger 2.0 $ref stands alone


def test_submit_takes_base64_json_and_declares_the_async_pattern(connector: dict[str, Any]) -> None:
    submit = connector["paths"]["/v1/invoices"]["post"]
    body = next(param for param in submit["parameters"] if param["in"] == "body")
    assert body["schema"]["properties"]["content"]["format"] == "byte"
    assert submit["consumes"] == ["application/json"]
    assert "Location" in submit["responses"]["202"]["headers"]
    wait = next(param for param in submit["parameters"] if param["name"] == "wait")
    assert (wait["in"], wait["type"], wait["x-ms-visibility"]) == ("query", "number", "advanced")
    job = connector["paths"]["/v1/jobs/{job_id}"]["get"]
    assert job["parameters"][0]["required"] is True


def test_every_invoice_field_is_named_for_dynamic_content(connector: dict[str, Any]) -> None:
    fields = connector["definitions"]["InvoiceResult"]["properties"]["fields"]["properties"]
    assert list(fields) == list(FIELD_NAMES)


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"anyOf": [{"type": "string"}, {"type": "null"}], "title": "X"},
         {"type": "string", "title": "X", "x-nullable": True, "x-ms-summary": "X"}),
        ({"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}, {"$ref": "#/definitions/A"}),
        ({"type": ["integer", "null"]}, {"type": "integer", "x-nullable": True}),
        ({"const": "x"}, {"enum": ["x"]}),
        ({"type": "string", "format": "binary"}, {"type": "string", "format": "byte"}),
        ({"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}]}, {"x-nullable": True}),
        ({"type": "array", "items": {"$ref": "#/components/schemas/B"}, "discriminator": {}},
         {"type": "array", "items": {"$ref": "#/definitions/B"}}),
    ],
    ids=["nullable-string", "nullable-ref", "type-list", "const", "binary", "union", "array"],
)  # fmt: skip
def test_convert_schema(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert convert_schema(schema) == expected


def test_connector_command_writes_the_file(tmp_path: Path, settings) -> None:
    out = tmp_path / "connector.json"
    result = CliRunner().invoke(
        connector_command, ["--base-url", "https://invoices.council.example", "--out", str(out)],
        obj={"settings": settings},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["swagger"] == "2.0"
    assert document["host"] == "invoices.council.example"


def test_connector_command_refuses_a_bad_base_url(settings) -> None:
    result = CliRunner().invoke(connector_command, ["--base-url", "invoices", "--out", "-"], obj={"settings": settings})
    assert result.exit_code == 2
    assert "base-url" in result.output


def test_auto_accept_is_offered_per_invoice_and_per_field(connector: dict[str, Any]) -> None:
    for model in ("InvoiceResult", "InvoiceField"):
        auto_accept = connector["definitions"][model]["properties"]["auto_accept"]
        assert (auto_accept["type"], auto_accept["x-ms-visibility"]) == ("boolean", "important")
        assert "person" in auto_accept["description"]  # the designer tells the flow author what to do otherwise
    threshold = connector["definitions"]["InvoiceResult"]["properties"]["auto_accept_threshold"]
    assert threshold["type"] == "number"
    # The raw (uncalibrated) confidence is kept in memory only: a flow never sees it.
    assert "raw_confidence" not in connector["definitions"]["InvoiceField"]["properties"]
