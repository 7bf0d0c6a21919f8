"""The invoice endpoints through FastAPI's TestClient, against the real extractor and a SQLite catalogue."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import time
import zipfile

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from docintel.api.app import create_app
from docintel.api.callbacks import JOB_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from docintel.api.jobs import InvoiceJobStore
from docintel.api.keys import ApiKeyStore, NewApiKey
from docintel.api.settings import ApiSettings
from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore
from docintel.settings import Settings
from tests.api.conftest import CallbackReceiver

VENDOR = "Greenway Grounds Maintenance Ltd"  # what the sample invoice says


def _poll(client: TestClient, location: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(location)
        if response.status_code == 200:
            return response.json()
        assert response.status_code == 202
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<Types><Override ContentType="application/vnd.openxmlformats-'
                         'officedocument.wordprocessingml.document.main+xml"/></Types>')  # fmt: skip
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_health_needs_no_key(app) -> None:
    with TestClient(app) as anonymous:
        response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    "header",
    [None, "", "nonsense", "dik_000000000000_wrongsecret", "dik__x", "Bearer dik_abc_def"],
    ids=["missing", "empty", "malformed", "unknown", "no-id", "bearer-prefix"],
)
def test_requests_without_a_valid_key_get_401(app, invoice_pdf: bytes, header: str | None) -> None:
    headers = {} if header is None else {"X-API-Key": header}
    with TestClient(app) as anonymous:
        posted = anonymous.post("/v1/invoices", files={"file": ("a.pdf", invoice_pdf)}, headers=headers)
        polled = anonymous.get(f"/v1/jobs/{'0' * 32}", headers=headers)
    assert posted.status_code == 401
    assert posted.json()["error"] == "Unauthorized"
    assert polled.status_code == 401


def test_revoked_key_gets_401(app, keys: ApiKeyStore, invoice_pdf: bytes) -> None:
    issued = keys.create("old-flow")
    with TestClient(app, headers={"X-API-Key": issued.key}) as revoked_client:
        assert revoked_client.post("/v1/invoices?wait=10", files={"file": ("a.pdf", invoice_pdf)}).status_code == 200
        keys.revoke(issued.client.key_id)
        assert revoked_client.post("/v1/invoices", files={"file": ("a.pdf", invoice_pdf)}).status_code == 401


def test_multipart_with_wait_returns_the_fields_inline(client: TestClient, invoice_pdf: bytes) -> None:
    response = client.post("/v1/invoices?wait=20", files={"file": ("invoice.pdf", invoice_pdf, "application/pdf")})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "succeeded"
    assert job["file_type"] == "pdf"
    assert job["size"] == len(invoice_pdf)
    fields = job["result"]["fields"]
    assert fields["VendorName"]["value"] == VENDOR
    assert fields["InvoiceDate"]["value"] == "2025-06-12"
    assert 0 <= fields["InvoiceDate"]["confidence"] <= 1
    assert job["result"]["items"], "line items expected"
    # The layout (every line of the document) is kept for corrections but never sent back.
    assert "layout" not in job["result"]


def test_json_base64_submission_works_the_same(client: TestClient, invoice_pdf: bytes) -> None:
    body = {"content": base64.b64encode(invoice_pdf).decode(), "name": "invoice.pdf"}
    response = client.post("/v1/invoices?wait=20", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["fields"]["VendorName"]["value"] == VENDOR


def test_without_wait_answers_202_and_the_job_can_be_polled(client: TestClient, invoice_pdf: bytes) -> None:
    response = client.post("/v1/invoices", files={"file": ("invoice.pdf", invoice_pdf)})
    assert response.status_code in (200, 202)
    if response.status_code == 202:
        assert response.headers["Retry-After"] == "1"
        assert response.json()["status"] in ("queued", "running")
    location = response.headers.get("Location") or f"/v1/jobs/{response.json()['id']}"
    assert location.endswith(f"/v1/jobs/{response.json()['id']}")
    finished = _poll(client, location)
    assert finished["status"] == "succeeded"
    assert finished["result"]["fields"]["VendorName"]["value"] == VENDOR


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"files": {"file": ("notes.txt", b"Dear supplier, please find attached.\n" * 5)}}, 415, "UnsupportedType"),
        ({"files": {"file": ("letter.docx", _docx())}}, 415, "UnsupportedType"),
        ({"files": {"file": ("empty.pdf", b"")}}, 422, "EmptyDocument"),
        ({"files": {"other": ("a.pdf", b"%PDF-1.4")}}, 400, "BadRequest"),
        ({"content": b"%PDF-1.4", "headers": {"Content-Type": "text/plain"}}, 415, "UnsupportedMediaType"),
        ({"json": {"content": "not base64 at all!"}}, 400, "BadRequest"),
        ({"json": {"name": "x.pdf"}}, 400, "BadRequest"),
        ({"json": {"content": "JVBERg==", "unexpected": 1}}, 400, "BadRequest"),
        ({"json": {"sharepoint": {"drive_id": "b!abc", "item_id": "01XYZ"}}}, 501, "NotConfigured"),
        ({"json": {"content": "JVBERg==", "callback_url": "ftp://example.com/x"}}, 422, "CallbackUrlRejected"),
        ({"json": {"content": "JVBERg==", "callback_url": "http://example.com/x"}}, 422, "CallbackUrlRejected"),
        ({"json": {"content": "JVBERg==", "callback_url": "https://example.com/x\r\nHost: a"}}, 400,
         "CallbackUrlMalformed"),
        ({"files": {"file": ("a.pdf", b"%PDF-1.4")}, "data": {"callback_url": "https://example.com/a b"}}, 400,
         "CallbackUrlMalformed"),
        ({"json": {"content": "JVBERg==", "callback_url": "https://169.254.169.254/latest"}}, 422,
         "CallbackUrlRejected"),
        ({"json": {"content": "JVBERg==", "callback_url": "https://[::ffff:10.0.0.1]/x"}}, 422,
         "CallbackUrlRejected"),
    ],
    ids=["text", "docx", "empty", "no-file-part", "wrong-media-type", "bad-base64", "no-content", "extra-key",
         "sharepoint", "ftp-callback", "plain-http-callback", "crlf-callback", "space-callback",
         "metadata-callback", "mapped-private-callback"],
)  # fmt: skip
def test_bad_submissions_are_refused(client: TestClient, kwargs: dict, status: int, error: str) -> None:
    response = client.post("/v1/invoices", **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_oversized_uploads_get_413(client: TestClient, api_settings: ApiSettings, invoice_pdf: bytes) -> None:
    too_big = invoice_pdf + b"\0" * (api_settings.max_upload_bytes + 1 - len(invoice_pdf))
    multipart = client.post("/v1/invoices", files={"file": ("big.pdf", too_big)})
    assert multipart.status_code == 413
    as_json = client.post("/v1/invoices", json={"content": base64.b64encode(too_big).decode()})
    assert as_json.status_code == 413

    def chunks():  # no Content-Length: the limit must hold while the body streams
        for _ in range(40):
            yield b"x" * 65536

    streamed = client.post("/v1/invoices", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "TooLarge"


def test_rate_limit_answers_429_with_retry_after(app, keys: ApiKeyStore, invoice_pdf: bytes) -> None:
    limited = keys.create("slow-flow", rate_limit_per_minute=2)
    other = keys.create("other-flow", rate_limit_per_minute=2)
    with TestClient(app, headers={"X-API-Key": limited.key}) as limited_client:
        statuses = [limited_client.get(f"/v1/jobs/{'0' * 32}").status_code for _ in range(3)]
        assert statuses == [404, 404, 429]
        refused = limited_client.get(f"/v1/jobs/{'0' * 32}")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 30
        # The limit is per key: another client is not held back.
        assert limited_client.get(f"/v1/jobs/{'0' * 32}", headers={"X-API-Key": other.key}).status_code == 404


def test_jobs_are_private_to_the_key_that_submitted_them(app, client, keys, invoice_pdf: bytes) -> None:
    job_id = client.post("/v1/invoices?wait=20", files={"file": ("a.pdf", invoice_pdf)}).json()["id"]
    assert client.get(f"/v1/jobs/{job_id}").status_code == 200
    stranger = keys.create("another-council-flow")
    assert client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": stranger.key}).status_code == 404
    assert client.get("/v1/jobs/not-a-job-id").status_code == 422


def test_callback_receives_the_result_signed(
    client: TestClient, api_key: NewApiKey, callback_receiver: CallbackReceiver, invoice_pdf: bytes
) -> None:
    callback_receiver.statuses = [503]  # the first delivery fails; the retry must get through
    response = client.post(
        "/v1/invoices", files={"file": ("a.pdf", invoice_pdf)}, data={"callback_url": callback_receiver.url}
    )
    job_id = response.json()["id"]
    received = callback_receiver.wait(2)
    assert len(received) == 2
    delivery = received[-1]
    assert delivery.headers[JOB_ID_HEADER] == job_id
    secret, sent_at, signed = (
        api_key.client.signing_secret,
        delivery.headers[TIMESTAMP_HEADER],
        delivery.headers[SIGNATURE_HEADER],
    )
    assert verify_signature(secret, sent_at, delivery.body, signed)
    assert not verify_signature(secret, sent_at, delivery.body + b" ", signed)
    payload = json.loads(delivery.body)
    assert payload["id"] == job_id
    assert payload["result"]["fields"]["VendorName"]["value"] == VENDOR
    deadline = time.monotonic() + 10
    while (job := client.get(f"/v1/jobs/{job_id}").json())["callback"]["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["callback"] == {"status": "delivered", "attempts": 2, "detail": None}


def test_a_callback_to_a_name_of_an_internal_address_is_refused_not_attempted(
    settings: Settings, store: CatalogueStore, api_key: NewApiKey, callback_receiver: CallbackReceiver, invoice_pdf
) -> None:
    port = callback_receiver.url.rsplit(":", 1)[1].split("/")[0]
    strict = ApiSettings(pool="thread", workers=1, callback_require_https=False)  # no allow-list
    app = create_app(settings, store=store, api_settings=strict)
    with TestClient(app, headers={"X-API-Key": api_key.key}) as client:
        response = client.post(
            "/v1/invoices?wait=20",
            files={"file": ("a.pdf", invoice_pdf)},
            data={"callback_url": f"http://localhost:{port}/hook"},
        )
        job_id = response.json()["id"]
        deadline = time.monotonic() + 10
        while (job := client.get(f"/v1/jobs/{job_id}").json())["callback"]["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert job["status"] == "succeeded"
    assert job["callback"] == {"status": "refused", "attempts": 0, "detail": "refused: address not allowed"}
    assert callback_receiver.received == []


def test_inline_answer_does_not_wait_for_a_slow_callback_receiver(
    client: TestClient, callback_receiver: CallbackReceiver, invoice_pdf: bytes
) -> None:
    callback_receiver.delay = 3.0
    started = time.monotonic()
    response = client.post(
        "/v1/invoices?wait=20", files={"file": ("a.pdf", invoice_pdf)}, data={"callback_url": callback_receiver.url}
    )
    assert time.monotonic() - started < 2.5
    assert response.status_code == 200
    assert response.json()["callback"]["status"] == "pending"
    assert len(callback_receiver.wait(1)) == 1


def test_slow_callback_receivers_do_not_delay_another_keys_invoice(
    client: TestClient, keys: ApiKeyStore, callback_receiver: CallbackReceiver, invoice_pdf: bytes
) -> None:
    callback_receiver.delay = 6.0  # each receiver holds its callback 6 s; two job threads serve the queue
    for _ in range(4):
        response = client.post(
            "/v1/invoices?wait=20", files={"file": ("a.pdf", invoice_pdf)}, data={"callback_url": callback_receiver.url}
        )
        assert response.status_code == 200
    other = keys.create("another-council-flow")
    started = time.monotonic()
    fast = client.post("/v1/invoices?wait=20", files={"file": ("b.pdf", invoice_pdf)}, headers={"X-API-Key": other.key})
    elapsed = time.monotonic() - started
    assert fast.status_code == 200 and fast.json()["status"] == "succeeded"
    assert elapsed < 3.0, f"another key's invoice waited {elapsed:.1f} s behind slow callbacks"
    assert len(callback_receiver.wait(4, timeout=30)) == 4  # and every slow callback still arrived


def test_corrections_are_stored_and_refine_the_supplier_profile(
    client: TestClient, settings: Settings, store: CatalogueStore, invoice_pdf: bytes, api_key: NewApiKey
) -> None:
    job_id = client.post("/v1/invoices?wait=20", files={"file": ("a.pdf", invoice_pdf)}).json()["id"]
    response = client.post(f"/v1/invoices/{job_id}/corrections", json={"fields": {"PaymentTerm": "30 days"}})
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["stored"] is True
    profile_file = settings.config_path("suppliers") / "keys" / api_key.client.key_id / f"{receipt['profile']}.yaml"
    profile = yaml.safe_load(profile_file.read_text(encoding="utf-8"))
    assert VENDOR in profile["match"]
    assert [c["field"] for c in profile["corrections"]] == ["PaymentTerm"]
    assert client.get(f"/v1/jobs/{job_id}").json()["corrected"] is True
    with store.engine.connect() as connection:
        stored = connection.execute(select(t.invoice_jobs.c.corrections).where(t.invoice_jobs.c.id == job_id)).scalar()
    assert stored == {"fields": {"PaymentTerm": "30 days"}}


@pytest.mark.parametrize(
    ("body", "status"),
    [({"fields": {"NotAField": "x"}}, 400), ({"fields": {}}, 422), ({"other": 1}, 422)],
    ids=["unknown-field", "no-fields", "wrong-shape"],
)
def test_bad_corrections_are_refused(client: TestClient, invoice_pdf: bytes, body: dict, status: int) -> None:
    job_id = client.post("/v1/invoices?wait=20", files={"file": ("a.pdf", invoice_pdf)}).json()["id"]
    assert client.post(f"/v1/invoices/{job_id}/corrections", json=body).status_code == status


def test_corrections_need_a_succeeded_job(client: TestClient, store: CatalogueStore, api_key: NewApiKey) -> None:
    jobs = InvoiceJobStore(store, 60)
    job = jobs.create(api_key_id=api_key.client.key_id, backend="rq", file_type="pdf", mime_type="application/pdf",
                      size=1, sha256="0" * 64, callback_url=None)  # fmt: skip
    jobs.fail(job.id, "CorruptDocument", "the bytes do not parse")
    response = client.post(f"/v1/invoices/{job.id}/corrections", json={"fields": {"InvoiceId": "X1"}})
    assert response.status_code == 409
    assert client.post(f"/v1/invoices/{'f' * 32}/corrections", json={"fields": {"InvoiceId": "X1"}}).status_code == 404


def test_no_document_content_reaches_the_logs(
    client: TestClient, invoice_pdf: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post("/v1/invoices?wait=20", files={"file": ("Invoice for Mrs Smith.pdf", invoice_pdf)})
    assert response.status_code == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert response.json()["id"] in logged  # the job is traceable by id...
    for secret in (VENDOR, "INV-2025-04817", "62341678", "Mrs Smith", client.headers["X-API-Key"]):
        assert secret not in logged  # ...but nothing the document or the key says


def test_a_restarted_server_fails_jobs_its_predecessor_left(
    settings: Settings, store: CatalogueStore, api_settings: ApiSettings, api_key: NewApiKey
) -> None:
    old = {"api_key_id": api_key.client.key_id, "status": "running", "backend": "local:gone", "callback_attempts": 0,
           "created_at": dt.datetime.now(dt.UTC)}  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(insert(t.invoice_jobs).values(id="a" * 32, **old))
        connection.execute(insert(t.invoice_jobs).values(id="b" * 32, **{**old, "backend": "rq", "status": "queued"}))
    app = create_app(settings, store=store, api_settings=api_settings)
    with TestClient(app, headers={"X-API-Key": api_key.key}) as client:
        abandoned = client.get(f"/v1/jobs/{'a' * 32}")
        on_rq = client.get(f"/v1/jobs/{'b' * 32}")
    assert abandoned.status_code == 200
    assert abandoned.json()["error"]["type"] == "JobAbandoned"
    assert on_rq.status_code == 202  # rq jobs survive a server restart: their bytes are in Redis


def test_expired_results_are_cleared(client: TestClient, store: CatalogueStore, invoice_pdf: bytes) -> None:
    job_id = client.post("/v1/invoices?wait=20", files={"file": ("a.pdf", invoice_pdf)}).json()["id"]
    with store.engine.begin() as connection:
        connection.execute(
            t.invoice_jobs.update()
            .where(t.invoice_jobs.c.id == job_id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert InvoiceJobStore(store, 60).purge_expired() == 1
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "expired"
    assert job["result"] is None


def test_full_queue_answers_503(settings: Settings, store: CatalogueStore, api_key: NewApiKey, invoice_pdf) -> None:
    tight = ApiSettings(pool="thread", workers=1, max_pending_jobs=1)
    app = create_app(settings, store=store, api_settings=tight)
    with TestClient(app, headers={"X-API-Key": api_key.key}) as client:
        answers = [client.post("/v1/invoices", files={"file": ("a.pdf", invoice_pdf)}) for _ in range(6)]
    codes = {answer.status_code for answer in answers}
    assert 503 in codes, codes  # six back-to-back submissions on one slot: some must be turned away
    busy = next(answer for answer in answers if answer.status_code == 503)
    assert busy.headers["Retry-After"] == "2"


@pytest.mark.needs_tesseract
def test_a_photographed_invoice_goes_through_ocr(client: TestClient, invoice_png: bytes) -> None:
    response = client.post("/v1/invoices?wait=60", files={"file": ("photo.png", invoice_png, "image/png")})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["file_type"] == "image"
    assert job["result"]["method"] == "ocr"
    assert job["result"]["fields"]["InvoiceId"]["value"] == "FS-20931"


def test_openapi_describes_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    submit = spec["paths"]["/v1/invoices"]["post"]
    assert set(submit["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert {"202", "401", "413", "415", "429"} <= set(submit["responses"])
    scheme = spec["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-API-Key")
    assert "/v1/jobs/{job_id}" in spec["paths"]
    assert "/v1/invoices/{job_id}/corrections" in spec["paths"]


def test_keys_never_reach_the_catalogue_in_clear(store: CatalogueStore, api_key: NewApiKey) -> None:
    with store.engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(select(t.api_keys)).mappings()]
    assert api_key.key not in json.dumps(rows, default=str)
