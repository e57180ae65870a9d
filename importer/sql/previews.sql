-- Previews (importer/previews/): stored uploads planned against a wheel, nothing written to it.
-- The API's statements run under importer.db.as_user (row-level security: only the user's own).

-- name: preview_insert
INSERT INTO import_previews (id, user_id, wheel_id, file_id, file_name, mapping, date_order, sheet,
                             result)
VALUES (%(id)s, %(user_id)s, %(wheel_id)s, %(file_id)s, %(file_name)s, %(mapping)s, %(date_order)s,
        %(sheet)s, %(result)s)
RETURNING id, wheel_id, file_id, file_name, mapping, date_order, sheet, result, expires_at;

-- name: preview_get
-- An expired preview is gone for its user (404) even before retention deletes it.
SELECT p.id, p.wheel_id, p.file_id, p.file_name, p.mapping, p.date_order, p.sheet, p.result,
       p.expires_at, f.media_type, f.size_bytes, w.year AS wheel_year
  FROM import_previews p
  JOIN import_files f ON f.id = p.file_id
  JOIN year_wheels w ON w.id = p.wheel_id
 WHERE p.id = %(preview_id)s AND p.expires_at > now();

-- name: preview_update
-- A change of choices: recomputed, and a day more to live from now.
UPDATE import_previews
   SET mapping = %(mapping)s, date_order = %(date_order)s, sheet = %(sheet)s, result = %(result)s,
       updated_at = now(), expires_at = now() + interval '24 hours'
 WHERE id = %(preview_id)s AND expires_at > now()
RETURNING id, wheel_id, file_id, file_name, mapping, date_order, sheet, result, expires_at;

-- name: preview_duplicates_count
-- Planned items (as arrays, one element each) equal to an item the wheel has: the comparison
-- of items_duplicates_delete (importer/sql/load.sql). Runs on the preview's own connection.
SELECT count(*) FROM unnest(%(names)s::text[], %(starts)s::date[], %(ends)s::date[],
                            %(rings)s::uuid[], %(groups)s::uuid[]) AS c(name, start_date, end_date,
                                                                     ring_id, group_id)
 WHERE EXISTS (SELECT 1 FROM items o
                WHERE o.wheel_id = %(wheel_id)s AND lower(btrim(o.name)) = c.name
                  AND o.start_date = c.start_date AND o.end_date = c.end_date
                  AND o.ring_id = c.ring_id AND o.group_id = c.group_id);

-- name: wheel_structure_existing
-- What an append would reuse (the names the import's read_existing reads), for a preview:
-- under as_user, so only a wheel of the user's answers.
SELECT w.year,
       (SELECT coalesce(jsonb_object_agg(lower(name), id), '{}') FROM wheel_rings WHERE wheel_id = w.id) AS rings,
       (SELECT coalesce(max(ring_order), -1) FROM wheel_rings WHERE wheel_id = w.id) AS max_ring_order,
       (SELECT coalesce(jsonb_object_agg(lower(name), id), '{}') FROM activity_groups WHERE wheel_id = w.id) AS groups,
       (SELECT coalesce(jsonb_object_agg(lower(name), id), '{}') FROM labels WHERE wheel_id = w.id) AS labels,
       (SELECT coalesce(jsonb_object_agg(year::text, id), '{}') FROM wheel_pages WHERE wheel_id = w.id) AS pages,
       (SELECT coalesce(max(page_order), 0) FROM wheel_pages WHERE wheel_id = w.id) AS max_page_order
  FROM year_wheels w WHERE w.id = %(wheel_id)s;

-- name: import_file_forget
-- An upload a preview could not read: nothing refers to it, so it goes at once (as the login
-- role: the API's role may not delete files).
DELETE FROM import_files f
 WHERE f.id = %(file_id)s
   AND NOT EXISTS (SELECT 1 FROM import_jobs j WHERE j.file_id = f.id)
   AND NOT EXISTS (SELECT 1 FROM import_previews p WHERE p.file_id = f.id);
