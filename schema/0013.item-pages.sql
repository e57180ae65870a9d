-- Keyset pages of a wheel's items (API.md, "Wheels": `limit`, `after`, `next`): a page is the
-- next `limit` items after the cursor's (start_date, id), read as one index range scan however
-- deep the page, instead of the whole wheel sorted in memory for every request.
-- depends: 0012.job-language

-- Every page of the wheel, in start-date order (GET .../items without `year`).
CREATE INDEX items_wheel_start_idx ON items (wheel_id, start_date, id);

-- One page year (GET .../items?year=): the same order within the page. It replaces the index of
-- 0001, whose leading columns it keeps, so the cascades of 0002 and every per-page read still
-- use it: COPY maintains one index more than before, not two.
DROP INDEX items_wheel_page_idx;
CREATE INDEX items_wheel_page_start_idx ON items (wheel_id, page_id, start_date, id);
