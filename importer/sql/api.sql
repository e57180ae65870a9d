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

-- name: wheel_items_page
-- One page of the wheel's items: at most `limit` items after the key (`after_date`, `after_id`)
-- in (start_date, id) order; the first page starts after ('-infinity', the nil UUID). Each
-- item comes as its JSON object (API.md's item: its ring's, group's and label's names, its
-- page's year), rendered here, so that the API process only joins texts and never holds a
-- page as Python objects; with its key, for the cursor of the next page.
-- The page is chosen first, on items alone, so that it is a range scan of
-- items_wheel_start_idx however deep it is (schema/0017); joined to the names first, the
-- planner would rather read every page year's items and sort them all. The caller asks for
-- one row more than it returns, to know whether a next page exists.
SELECT i.start_date, i.id, row_to_json(item)::text AS item
FROM (SELECT id, page_id, ring_id, group_id, label_id, name, start_date, end_date, description
        FROM items
       WHERE wheel_id = %(wheel_id)s
         AND (start_date, id) > (%(after_date)s::date, %(after_id)s::uuid)
       ORDER BY start_date, id
       LIMIT %(limit)s) i
JOIN wheel_pages p ON p.id = i.page_id
JOIN wheel_rings r ON r.id = i.ring_id
JOIN activity_groups g ON g.id = i.group_id
LEFT JOIN labels l ON l.id = i.label_id
CROSS JOIN LATERAL (SELECT i.name, i.start_date, i.end_date, r.name AS ring, g.name AS "group",
                           l.name AS label, i.description, p.year AS page_year) item
ORDER BY i.start_date, i.id;

-- name: wheel_year_items_page
-- wheel_items_page within the page of one year. Every import puts an item on the page of its
-- start date's year (importer/read/planning.py splits an activity at each year end; structured
-- pages follow their items' dates too), so a page's items are the stretch of that year in
-- items_wheel_start_idx: the date bounds make it a range scan of that stretch alone, the page
-- condition keeps exactly the page's items.
SELECT i.start_date, i.id, row_to_json(item)::text AS item
FROM (SELECT id, page_id, ring_id, group_id, label_id, name, start_date, end_date, description
        FROM items
       WHERE wheel_id = %(wheel_id)s
         AND page_id = (SELECT id FROM wheel_pages WHERE wheel_id = %(wheel_id)s AND year = %(year)s::integer)
         AND start_date >= make_date(%(year)s::integer, 1, 1)
         AND start_date < make_date(%(year)s::integer + 1, 1, 1)
         AND (start_date, id) > (%(after_date)s::date, %(after_id)s::uuid)
       ORDER BY start_date, id
       LIMIT %(limit)s) i
JOIN wheel_pages p ON p.id = i.page_id
JOIN wheel_rings r ON r.id = i.ring_id
JOIN activity_groups g ON g.id = i.group_id
LEFT JOIN labels l ON l.id = i.label_id
CROSS JOIN LATERAL (SELECT i.name, i.start_date, i.end_date, r.name AS ring, g.name AS "group",
                           l.name AS label, i.description, p.year AS page_year) item
ORDER BY i.start_date, i.id;

-- name: rejected_rows_width
-- The most cells of any of a job's rejected rows: errors.csv's columns, known before its first line.
SELECT coalesce(max(cardinality(raw_values)), 0) AS width
FROM import_rejected_rows WHERE job_id = %(job_id)s;

-- name: rejected_rows_list
-- Read through a server-side cursor by errors.csv, a batch at a time (server/views/jobs.py).
SELECT row_number, column_name, reason, raw_values
FROM import_rejected_rows WHERE job_id = %(job_id)s ORDER BY row_number;
