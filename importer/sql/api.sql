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
