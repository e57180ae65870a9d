-- The HTTP API's queries. Each runs inside importer.db.as_user, so row-level security scopes
-- every read and write to the request's user; "not found" includes "not yours".

-- name: user_ensure
-- The first valid request of a subject creates its row; a token with a new e-mail updates it.
INSERT INTO users (id, email) VALUES (%(user_id)s, %(email)s)
ON CONFLICT (id) DO UPDATE SET email = excluded.email
WHERE excluded.email IS NOT NULL AND users.email IS DISTINCT FROM excluded.email;

-- name: wheel_create
INSERT INTO year_wheels (owner_id, title, year) VALUES (%(owner_id)s, %(title)s, %(year)s)
RETURNING id, title, year, created_at;

-- name: wheel_first
SELECT id FROM year_wheels ORDER BY created_at, id LIMIT 1;

-- name: wheel_list
SELECT id, title, year, created_at FROM year_wheels ORDER BY created_at DESC, id DESC;

-- name: wheel_get
SELECT w.id, w.title, w.year, w.created_at,
       jsonb_build_object(
           'rings', (SELECT count(*) FROM wheel_rings r WHERE r.wheel_id = w.id),
           'groups', (SELECT count(*) FROM activity_groups g WHERE g.wheel_id = w.id),
           'labels', (SELECT count(*) FROM labels l WHERE l.wheel_id = w.id),
           'pages', (SELECT count(*) FROM wheel_pages p WHERE p.wheel_id = w.id),
           'items', (SELECT count(*) FROM items i WHERE i.wheel_id = w.id)) AS counts
FROM year_wheels w WHERE w.id = %(wheel_id)s;

-- name: wheel_exists
SELECT 1 AS found FROM year_wheels WHERE id = %(wheel_id)s;

-- name: wheel_items
-- The wheel's items with the names of what they refer to; `year` (NULL: every page) picks a page.
SELECT i.name, i.start_date, i.end_date, r.name AS ring, g.name AS "group", l.name AS label,
       i.description, p.year AS page_year
FROM items i
JOIN wheel_pages p ON p.id = i.page_id
JOIN wheel_rings r ON r.id = i.ring_id
JOIN activity_groups g ON g.id = i.group_id
LEFT JOIN labels l ON l.id = i.label_id
WHERE i.wheel_id = %(wheel_id)s AND (%(year)s::integer IS NULL OR p.year = %(year)s::integer)
ORDER BY i.start_date, i.name, i.id;

-- name: rejected_rows_list
SELECT row_number, column_name, reason, raw_values
FROM import_rejected_rows WHERE job_id = %(job_id)s ORDER BY row_number;
