"""The tenant model: determinism, compact storage, ids, YAML validation, mutations and real document content."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from docintel.errors import ConfigError
from docintel.extract import default_registry
from docintel.extract.base import ExtractContext
from docintel.extract.sniff import sniff
from docintel.graph_emulator import content
from docintel.graph_emulator.responses import GraphError
from docintel.graph_emulator.spec import load_tenant_spec, parse_tenant_spec
from docintel.graph_emulator.tenant import ItemIdCodec, Tenant
from docintel.graph_emulator.testing import SMALL_TENANT

DEMO_TENANT = Path(__file__).resolve().parents[2] / "config" / "demo-tenant.yaml"


def bulk_spec(files: int) -> dict[str, Any]:
    return {"sites": [{"name": "bulk", "libraries": [{"generate": {"files": files, "files_per_folder": 50}}]}]}


def test_same_spec_gives_the_same_tenant() -> None:
    first, second = Tenant(parse_tenant_spec(SMALL_TENANT)), Tenant(parse_tenant_spec(SMALL_TENANT))
    assert [d.id for d in first.drives] == [d.id for d in second.drives]
    for index in range(len(first.parent)):
        assert first.ids.encode(index) == second.ids.encode(index)
        assert first.name_of(index) == second.name_of(index)
        if not first.is_folder(index):
            assert first.facts(index) == second.facts(index)


def test_another_seed_gives_other_ids_and_bodies() -> None:
    other = copy.deepcopy(SMALL_TENANT)
    other["tenant"]["seed"] = 8
    first, second = Tenant(parse_tenant_spec(SMALL_TENANT)), Tenant(parse_tenant_spec(other))
    assert first.ids.encode(5) != second.ids.encode(5)
    file_index = next(i for i in range(len(first.parent)) if not first.is_folder(i))
    assert first.body(file_index) != second.body(file_index)


@pytest.mark.parametrize("index", [0, 1, 99_999, 1_000_000, 2**32])
def test_item_ids_round_trip(index: int) -> None:
    codec = ItemIdCodec(7)
    item_id = codec.encode(index)
    assert len(item_id) == 34 and item_id.startswith("01")
    assert codec.decode(item_id) == index


@pytest.mark.parametrize(
    "item_id", ["", "root", "01" + "A" * 32, "01" + "A" * 31, "02" + "A" * 32, "01!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"]
)
def test_foreign_or_forged_ids_are_rejected(item_id: str) -> None:
    assert ItemIdCodec(7).decode(item_id) is None


def test_an_id_from_another_tenant_is_rejected() -> None:
    assert ItemIdCodec(7).decode(ItemIdCodec(8).encode(3)) is None


def test_bulk_tree_is_compact_and_parents_come_first() -> None:
    tenant = Tenant(parse_tenant_spec(bulk_spec(20_000)))
    drive = tenant.drives[0]
    files = [i for i in drive.order if not tenant.is_folder(i)]
    assert len(files) == 20_000
    seen = set()
    for index in drive.order:
        assert tenant.parent[index] == -1 or tenant.parent[index] in seen
        seen.add(index)
    assert max(sum(not tenant.is_folder(c) for c in kids) for kids in tenant.children.values()) == 50
    # Nothing per item but array columns and child lists: no names, timestamps or bodies are stored.
    assert tenant.names == {drive.root: "root"}
    assert not tenant.modified_override


def test_demo_tenant_has_two_sites_two_users_and_about_thirty_files() -> None:
    tenant = Tenant(load_tenant_spec(DEMO_TENANT))
    assert [s.display_name for s in tenant.sites if not s.personal] == ["Finance", "Adult Social Care"]
    assert [u.drive is not None for u in tenant.users] == [True, False]
    files = [i for i in range(len(tenant.parent)) if not tenant.is_folder(i)]
    assert 25 <= len(files) <= 35


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["sites"][0].update(colour="blue"), "sites.0.colour"),
        (lambda s: s["sites"][0]["libraries"][0]["folders"][0].update(templates=["horoscope"]), "unknown template"),
        (lambda s: s["users"][0].update(onedrive="maybe"), "users.0.onedrive"),
        (
            lambda s: s.update(retention_labels=[{"name": "x", "behavior_during_retention_period": "forever"}]),
            "unknown behaviour",
        ),
    ],
    ids=["unknown-key", "unknown-template", "bad-bool", "bad-label-behaviour"],
)
def test_bad_tenant_descriptions_name_the_key(mutate: Any, message: str) -> None:
    spec = copy.deepcopy(SMALL_TENANT)
    mutate(spec)
    with pytest.raises(ConfigError, match=message):
        parse_tenant_spec(spec, "tenant.yaml")


def test_bad_yaml_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tenant.yaml"
    path.write_text("sites: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tenant\.yaml"):
        load_tenant_spec(path)


def test_mutations_update_state_and_journal() -> None:
    tenant = Tenant(parse_tenant_spec(SMALL_TENANT))
    drive = tenant.drives[0]
    invoices = tenant.item_by_path(drive, "Invoices")
    contracts = tenant.item_by_path(drive, "Contracts")
    added = tenant.add_item(drive, invoices, "Extra", "invoice", "txt")
    assert tenant.name_of(added) == "Extra.txt"
    before = tenant.facts(added)
    tenant.edit_item(added)
    assert tenant.facts(added) != before
    tenant.move_item(added, contracts)
    assert tenant.path_names(added) == ["Contracts", "Extra.txt"]
    removed = tenant.delete_item(contracts)
    assert removed == 6  # Contracts, its 2 files, Expired, its file and the moved file
    assert not tenant.alive[added]
    assert list(drive.journal_seq) == sorted(drive.journal_seq)
    assert tenant.last_change[added] > 0


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (lambda t, d: t.add_item(d, t.item_by_path(d, "Invoices"), "Regulations.docx", "policy", "docx"), None),
        (lambda t, d: t.rename_item(t.item_by_path(d, "Contracts"), "Invoices"), 409),
        (lambda t, d: t.rename_item(t.item_by_path(d, "Contracts"), "bad/name"), 400),
        (lambda t, d: t.move_item(t.item_by_path(d, "Contracts"), t.item_by_path(d, "Contracts/Expired")), 400),
        (lambda t, d: t.delete_item(d.root), 403),
        (lambda t, d: t.edit_item(t.item_by_path(d, "Invoices")), 400),
        (lambda t, d: t.item_by_path(d, "Nowhere/at/all"), 404),
    ],
    ids=[
        "same-name-other-folder-ok",
        "duplicate-name",
        "invalid-char",
        "move-into-own-child",
        "delete-root",
        "edit-folder",
        "missing-path",
    ],
)
def test_invalid_mutations_answer_like_graph(action: Any, status: int | None) -> None:
    tenant = Tenant(parse_tenant_spec(SMALL_TENANT))
    if status is None:
        action(tenant, tenant.drives[0])
        return
    with pytest.raises(GraphError) as caught:
        action(tenant, tenant.drives[0])
    assert caught.value.status == status


@pytest.mark.parametrize("kind", range(1, len(content.KINDS)), ids=[f"{t}.{f}" for t, f in content.KINDS[1:]])
def test_every_template_renders_a_document_docintel_can_read(kind: int) -> None:
    fmt = content.KINDS[kind][1]
    data = content.render(kind, 7, 42, 1)
    assert data == content.render(kind, 7, 42, 1)
    assert data != content.render(kind, 7, 42, 2)
    file_type, mime = sniff(data, f"x.{fmt}")
    assert mime == content.MIME_TYPES[fmt] or (fmt == "txt" and mime.startswith("text/"))
    extraction = default_registry().for_type(file_type).extract(data, ExtractContext(name=f"x.{fmt}"))
    text = "\n".join(page.text for page in extraction.pages)
    assert "Revision 2" not in text
    assert len(text) > 100
