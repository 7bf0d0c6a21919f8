"""Wire details over raw HTTP: error shapes and headers, Retry-After forms, fault rates, Range, $batch, auth."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx
import pytest

from docintel.graph_emulator.testing import RunningEmulator

AUTH = {"Authorization": "Bearer test-token"}
# One client for the module: building an httpx client costs tens of ms (SSL context), a request ~1 ms.
HTTP = httpx.Client(timeout=30)


def get(emulator: RunningEmulator, path: str, **kwargs: Any) -> httpx.Response:
    return HTTP.get(f"{emulator.graph_url}/{path}", headers={**AUTH, **kwargs.pop("headers", {})}, **kwargs)


def finance_drive(emulator: RunningEmulator) -> str:
    tenant = emulator.control("GET", "/tenant")
    return tenant["sites"][0]["drive_ids"][0]


def test_missing_token_is_401_in_graph_error_shape(graph_emulator: RunningEmulator) -> None:
    response = HTTP.get(f"{graph_emulator.graph_url}/sites/getAllSites", headers={"client-request-id": "abc"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["client-request-id"] == "abc" == response.headers["client-request-id"]
    for header in ("request-id", "x-ms-ags-diagnostic", "date"):
        assert header in response.headers
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("sites/getAllSites()", 200, None),
        ("SITES/GETALLSITES", 200, None),
        ("sites?$search=*", 200, None),
        ("users/nobody@test.example.gov.uk", 404, "Request_ResourceNotFound"),
        ("users/no.drive@test.example.gov.uk/drive", 404, "ResourceNotFound"),
        ("users?$top=1000", 400, "Request_BadRequest"),
        ("users?$top=999", 200, None),
        ("drives/b!nope", 404, "itemNotFound"),
        ("me/drive", 400, "BadRequest"),
        ("nothing/here", 400, "BadRequest"),
    ],
)
def test_paths_and_errors(graph_emulator: RunningEmulator, path: str, status: int, code: str | None) -> None:
    response = get(graph_emulator, path)
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("rule", "status", "retry_after"),
    [
        ({"status": 429, "retry_after": 5}, 429, "5"),
        ({"status": 429, "retry_after": 0}, 429, "0"),
        ({"status": 429, "retry_after": 3600}, 429, "3600"),
        ({"status": 429, "retry_after": 30, "retry_after_format": "http-date"}, 429, "date"),
        ({"status": 503, "retry_after": 2}, 503, "2"),
        ({"status": 503}, 503, None),
        ({"status": 504}, 504, None),
        ({"status": 504, "retry_after": 1}, 504, "1"),
    ],
)
def test_injected_faults_carry_retry_after_forms(
    graph_emulator: RunningEmulator, rule: dict[str, Any], status: int, retry_after: str | None
) -> None:
    graph_emulator.control("PUT", "/faults", {"rules": [rule]})
    response = get(graph_emulator, "sites/getAllSites")
    assert response.status_code == status
    header = response.headers.get("retry-after")
    if retry_after == "date":
        when = email.utils.parsedate_to_datetime(header).timestamp()
        assert 25 <= when - time.time() <= 31
    else:
        assert header == retry_after
    body = response.json()["error"]
    if status == 429:
        assert body["code"] == "activityLimitReached"
        assert body["innerError"]["code"] == "throttledRequest"
    assert get(graph_emulator, "sites/getAllSites").status_code == 200  # count 1: the next request succeeds


def test_block_mode_rule_fails_every_matching_request(graph_emulator: RunningEmulator) -> None:
    graph_emulator.control("PUT", "/faults", {"rules": [{"status": 503, "count": -1, "path": "^users"}]})
    assert [get(graph_emulator, "users").status_code for _ in range(5)] == [503] * 5
    assert get(graph_emulator, "sites/getAllSites").status_code == 200
    graph_emulator.control("DELETE", "/faults")
    assert get(graph_emulator, "users").status_code == 200


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_fail_rate_is_seeded_and_roughly_right(start_graph_emulator: Any, rate: float) -> None:
    outcomes = []
    for _ in range(2):
        emulator = start_graph_emulator()
        emulator.control("PUT", "/faults", {"fail_rate": rate, "fail_statuses": [429, 503], "seed": 11})
        outcomes.append([get(emulator, "sites/getAllSites").status_code for _ in range(200)])
    assert outcomes[0] == outcomes[1]
    failed = sum(status != 200 for status in outcomes[0]) / 200
    assert abs(failed - rate) <= 0.08
    assert set(outcomes[0]) <= {200, 429, 503}


def test_resource_units_throttle_with_ratelimit_headers(graph_emulator: RunningEmulator) -> None:
    graph_emulator.control("PUT", "/throttle", {"ru_per_minute": 10})
    statuses, remaining = [], []
    for _ in range(6):  # GET /users costs 2 RU
        response = get(graph_emulator, "users")
        statuses.append(response.status_code)
        remaining.append(response.headers.get("ratelimit-remaining"))
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    assert remaining[0] is None and remaining[4] == "0"
    throttled = get(graph_emulator, "users")
    assert throttled.json()["error"]["code"] == "activityLimitReached"
    assert int(throttled.headers["retry-after"]) >= 1
    assert graph_emulator.control("GET", "/stats")["resource_units"] == 10


@pytest.mark.parametrize(
    ("range_header", "status", "slice_"),
    [
        ("bytes=0-9", 206, slice(0, 10)),
        ("bytes=5-", 206, slice(5, None)),
        ("bytes=-4", 206, slice(-4, None)),
        ("bytes=0-999999", 206, slice(0, None)),
        ("items=0-3", 200, slice(0, None)),
        ("bytes=999999-", 416, None),
    ],
)
def test_download_ranges(graph_emulator: RunningEmulator, range_header: str, status: int, slice_: slice | None) -> None:
    drive = finance_drive(graph_emulator)
    item = graph_emulator.control("GET", f"/drives/{drive}/items?path=Regulations.docx")
    redirect = get(graph_emulator, f"drives/{drive}/items/{item['id']}/content")
    assert redirect.status_code == 302 and redirect.content == b""
    location = redirect.headers["location"]
    assert f":{graph_emulator.content_port}/" in location
    whole = HTTP.get(location).content
    assert len(whole) == item["size"]
    response = HTTP.get(location, headers={"Range": range_header})
    assert response.status_code == status
    if slice_ is not None:
        assert response.content == whole[slice_]
    if status == 206:
        assert response.headers["content-range"].endswith(f"/{len(whole)}")


def test_content_if_none_match_gives_304(graph_emulator: RunningEmulator) -> None:
    drive = finance_drive(graph_emulator)
    item_id = graph_emulator.control("GET", f"/drives/{drive}/items?path=Regulations.docx")["id"]
    c_tag = get(graph_emulator, f"drives/{drive}/items/{item_id}").json()["cTag"]
    assert (
        get(graph_emulator, f"drives/{drive}/items/{item_id}/content", headers={"if-none-match": c_tag}).status_code
        == 304
    )


def test_forged_delta_token_is_400_and_expired_token_is_410(graph_emulator: RunningEmulator) -> None:
    drive = finance_drive(graph_emulator)
    assert get(graph_emulator, f"drives/{drive}/root/delta?token=garbage").status_code == 400
    graph_emulator.control("PUT", "/settings", {"delta_token_ttl_seconds": 0.2})
    delta_link = get(graph_emulator, f"drives/{drive}/root/delta").json()["@odata.deltaLink"]
    time.sleep(0.3)
    gone = HTTP.get(delta_link, headers=AUTH)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "resyncRequired"
    assert gone.headers["location"] == f"{graph_emulator.graph_url}/drives/{drive}/root/delta"


def test_delta_select_is_kept_across_pages(graph_emulator: RunningEmulator) -> None:
    drive = finance_drive(graph_emulator)
    graph_emulator.control("PUT", "/settings", {"page_size": 5})
    page = get(graph_emulator, f"drives/{drive}/root/delta?$select=id,name,sharepointIds").json()
    assert set(page["value"][0]) == {"id", "name", "sharepointIds"}
    following = HTTP.get(page["@odata.nextLink"], headers=AUTH).json()
    assert all(set(item) == {"id", "name", "sharepointIds"} for item in following["value"])


def test_batch_runs_each_request_with_dependencies_and_limits(graph_emulator: RunningEmulator) -> None:
    drive = finance_drive(graph_emulator)
    graph_emulator.control("PUT", "/faults", {"rules": [{"status": 429, "retry_after": 7, "path": "^users$"}]})
    batch = {
        "requests": [
            {"id": "1", "method": "GET", "url": f"/drives/{drive}"},
            {"id": "2", "method": "GET", "url": "/users"},
            {"id": "3", "method": "GET", "url": "/sites/getAllSites", "dependsOn": ["2"]},
            {"id": "4", "method": "GET", "url": f"/drives/{drive}/root/children?$top=2"},
        ]
    }
    response = HTTP.post(f"{graph_emulator.graph_url}/$batch", json=batch, headers=AUTH)
    assert response.status_code == 200
    inner = {r["id"]: r for r in response.json()["responses"]}
    assert inner["1"]["status"] == 200 and inner["1"]["body"]["id"] == drive
    assert inner["2"]["status"] == 429 and inner["2"]["headers"]["Retry-After"] == "7"
    assert inner["3"]["status"] == 424
    assert len(inner["4"]["body"]["value"]) == 2 and "@odata.nextLink" in inner["4"]["body"]
    too_many = {"requests": [{"id": str(n), "method": "GET", "url": "/users"} for n in range(21)]}
    assert HTTP.post(f"{graph_emulator.graph_url}/$batch", json=too_many, headers=AUTH).status_code == 400
    duplicate = {"requests": [{"id": "1", "method": "GET", "url": "/users"}] * 2}
    assert HTTP.post(f"{graph_emulator.graph_url}/$batch", json=duplicate, headers=AUTH).status_code == 400


def test_user_agent_is_counted(graph_emulator: RunningEmulator) -> None:
    get(graph_emulator, "users", headers={"User-Agent": "NONISV|Wessex|docintel/0.1"})
    assert graph_emulator.control("GET", "/stats")["user_agents"]["NONISV|Wessex|docintel/0.1"] == 1


def test_control_api_rejects_bad_changes(graph_emulator: RunningEmulator) -> None:
    drive = finance_drive(graph_emulator)
    response = HTTP.post(
        f"{graph_emulator.base_url}/_control/items",
        json={"drive_id": drive, "parent_path": "Invoices", "template": "horoscope"},
    )
    assert response.status_code == 400
    assert "known" in response.json()["error"]["message"]
    assert HTTP.delete(f"{graph_emulator.base_url}/_control/items/01NOPE").status_code == 404


def test_random_changes_touch_the_requested_count(graph_emulator: RunningEmulator) -> None:
    result = graph_emulator.control(
        "POST", "/mutate", {"count": 5, "seed": 3, "operations": ["edit", "rename", "add", "move", "delete"]}
    )
    assert sum(result["changes"].values()) == 5
    assert result["change_id"] >= 5
