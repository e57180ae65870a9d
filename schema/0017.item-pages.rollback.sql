-- Undo 0013: the items index of 0001 again.
DROP INDEX items_wheel_start_idx;
CREATE INDEX items_wheel_page_idx ON items (wheel_id, page_id, start_date);
