-- Keyset pages of a wheel's items (API.md, "Wheels": `limit`, `after`, `next`): a page is the
-- next `limit` items after the cursor's (start_date, id), read as one index range scan however
-- deep the page, instead of the whole wheel sorted in memory for every request.
-- depends: 0016.job-notify-v3

-- It replaces the index of 0001 (wheel_id, page_id, start_date) rather than joining it: every
-- index of items is paid for by each COPY of an import (a second one made COPY about 1.8 times
-- slower), and this one serves what that one did: a wheel's items (deletes, counts, the
-- duplicates check, which matches on start_date too) by its leading column, and one page year's
-- items (GET .../items?year=) as this order filtered to the page.
DROP INDEX items_wheel_page_idx;
CREATE INDEX items_wheel_start_idx ON items (wheel_id, start_date, id);
