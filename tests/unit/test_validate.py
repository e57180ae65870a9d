"""The one validation of an activity: the same rules and reasons for the CSV and the JSON form."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.model import Rejection
from importer.read.csv_source import open_csv
from importer.read.structured import parse_payload

SPAN_REASON = "Aktiviteten spänner över mer än 10 år"


@st.composite
def near_the_span_boundary(draw):
    # Ends a few days either side of start + 10 years; Feb 29 starts and ends included.
    start = draw(st.dates(date(1900, 1, 1), date(2089, 12, 31))
                 | st.sampled_from([date(2000, 2, 29), date(2024, 2, 29), date(2020, 2, 28)]))
    target = date(start.year + 10, start.month, min(start.day, 28))
    end = target + timedelta(days=draw(st.integers(-3, 4)))
    return start, end


@settings(max_examples=400, deadline=None)
@given(st.lists(near_the_span_boundary(), min_size=1, max_size=20))
def test_csv_and_json_sources_agree_on_the_span_boundary(pairs):
    """The CSV and the JSON source reject exactly the same start/end pairs as longer than 10
    years, with the same reason."""
    csv_text = "Aktivitet,Startdatum,Slutdatum\n" + "".join(
        f"A{i},{s.isoformat()},{e.isoformat()}\n" for i, (s, e) in enumerate(pairs))
    from_csv = list(open_csv(csv_text.encode(), file_name="t.csv"))
    _, _, source = parse_payload({"pages": [{"items": [
        {"name": f"A{i}", "startDate": s.isoformat(), "endDate": e.isoformat()}
        for i, (s, e) in enumerate(pairs)]}]})
    from_json = list(source)

    def spans(rows):
        return [isinstance(r, Rejection) and r.reason == SPAN_REASON for r in rows]

    assert spans(from_csv) == spans(from_json)
    for (start, end), too_long in zip(pairs, spans(from_csv), strict=True):
        # The independent statement of the rule: end later than the same day 10 years on.
        assert too_long == ((end.year - 10, end.month, end.day) > (start.year, start.month, start.day))
