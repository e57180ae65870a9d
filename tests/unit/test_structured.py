"""The structured JSON body: declared structure, ids resolved to names, item rejections and
structural errors."""

from __future__ import annotations

import json
from datetime import date

import pytest

from importer.errors import BadRequest, UnreadableFile
from importer.model import Activity, Existing, Rejection
from importer.read.planning import Planner
from importer.read.structured import parse_payload


def payload(**overrides):
    body = {
        "importMode": "replace",
        "fileName": "plan.yrw",
        "structure": {
            "rings": [{"id": "ring-1", "name": "Verksamhet", "type": "inner"},
                      {"id": "ring-2", "name": "Helgdagar", "type": "outer", "color": "#aabbcc"}],
            "activityGroups": [{"id": "ag-1", "name": "Möten", "color": "#112233"}],
            "labels": [{"id": "label-1", "name": "Anna", "color": "#445566"}],
        },
        "pages": [
            {"year": 2026, "title": "2026", "items": [
                {"name": "Kickoff", "startDate": "2026-01-10", "endDate": "2026-01-11",
                 "ringId": "ring-1", "activityId": "ag-1", "labelId": "label-1",
                 "description": "Alla"},
                {"name": "", "startDate": "2026-02-01", "endDate": "2026-02-01",
                 "ringId": "ring-1", "activityId": "ag-1"},
            ]},
            {"year": 2027, "items": [
                {"name": "Jul", "startDate": "2026-12-20", "endDate": "2027-01-06",
                 "ringId": "ring-2", "activityId": "ag-1", "labelIds": ["label-1"]},
                {"name": "Fel", "startDate": "2027-03-01", "endDate": "2027-02-01",
                 "ringId": "ring-2", "activityId": "ag-1"},
                {"name": "Datum", "startDate": "snart", "endDate": "2027-02-01",
                 "ringId": "ring-2", "activityId": "ag-1"},
            ]},
        ],
    }
    body.update(overrides)
    return body


def test_payload_reads_into_activities_and_rejections():
    """Items resolve ids to names; bad items are rejections numbered in flattened order."""
    mode, file_name, source = parse_payload(json.dumps(payload()).encode())
    assert (mode, file_name, source.total_rows) == ("replace", "plan.yrw", 5)
    rows = list(source)
    assert rows[0] == Activity(row_number=1, name="Kickoff", start=date(2026, 1, 10),
                               end=date(2026, 1, 11), ring="Verksamhet", group="Möten",
                               label="Anna", description="Alla")
    assert rows[2].label == "Anna"  # the original client's labelIds[]
    rejected = [(r.row_number, r.column, r.reason) for r in rows if isinstance(r, Rejection)]
    assert rejected == [(2, "name", "Namn saknas"), (4, "endDate", "Slutdatum före startdatum"),
                        (5, "startDate", "Ogiltigt startdatum: 'snart'")]


def test_declared_structure_reaches_the_planner():
    """Ring types and colours declared in the payload are what the planner creates."""
    _, _, source = parse_payload(payload())
    assert [(r.name, r.type, r.color) for r in source.declared.rings] == [
        ("Verksamhet", "inner", None), ("Helgdagar", "outer", "#AABBCC")]
    planner = Planner(Existing(), source.declared)
    items = [i for r in source if isinstance(r, Activity) for i in planner.place(r)]
    new = planner.take_new()
    assert len(items) == 3 and len(new.rings) == 2 and len(new.groups) == 1
    assert sorted(p.year for p in new.pages) == [2026, 2027]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "Ogiltig JSON"),
        (b"[1, 2]", "JSON-objekt"),
        (payload(importMode="merge"), "importMode"),
        (payload(pages={}), "pages"),
        (payload(structure={"rings": [{"id": "r", "name": "R", "type": "middle"}]}), "type"),
        (payload(structure={"rings": [{"id": "r", "name": "R", "color": "red"}]}), "#RRGGBB"),
        (payload(structure={"activityGroups": [{"id": "g", "name": "G", "color": "#12345"}]}),
         "color"),
        (payload(structure={"rings": [{"id": "r", "name": ""}]}), "name"),
        (payload(structure={"rings": [{"id": "r", "name": "x" * 101}]}), "100"),
        (payload(structure={"rings": [{"id": "r", "name": "A"}, {"id": "r", "name": "B"}]}),
         "två gånger"),
        (payload(pages=[{"year": 2026, "items": [{"name": "A", "startDate": "2026-01-01",
                                                  "ringId": "nope", "activityId": "ag-1"}]}]),
         "ringId"),
        (payload(pages=[{"year": 2026, "items": [{"name": "A", "startDate": "2026-01-01",
                                                  "ringId": "ring-1", "activityId": "ag-1",
                                                  "labelId": "x"}]}]), "labelId"),
        (payload(pages=[{"year": 2026, "items": ["A"]}]), "items[0]"),
    ],
)
def test_structural_problems_are_bad_requests(body, words):
    """Anything structural raises BadRequest(bad_payload) naming the place of the problem."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(BadRequest) as info:
        parse_payload(raw)
    assert info.value.code == "bad_payload"
    assert words in info.value.message


def test_no_items_is_unreadable():
    """A payload without items cannot be an import."""
    with pytest.raises(UnreadableFile) as info:
        parse_payload(payload(pages=[{"year": 2026, "items": []}]))
    assert info.value.code == "no_data_rows"


def test_items_without_ring_or_group_use_the_defaults():
    """ringId/activityId may be absent: the planner then uses its default ring and group."""
    _, _, source = parse_payload(payload(pages=[{"year": 2026, "items": [
        {"name": "A", "startDate": "2026-01-01", "endDate": "2026-01-01"}]}]))
    (row,) = list(source)
    assert (row.ring, row.group, row.label) == (None, None, None)
