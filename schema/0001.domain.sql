-- The year-wheel domain: users, wheels and what an import writes into them.
-- depends:

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    email       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_length CHECK (email IS NULL OR char_length(email) BETWEEN 3 AND 320)
);
COMMENT ON TABLE users IS 'One row per token subject (JWT sub); created on the first valid request.';

CREATE TABLE year_wheels (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       text NOT NULL,
    year        integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT year_wheels_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT year_wheels_year_range CHECK (year BETWEEN 1900 AND 2100)
);
CREATE INDEX year_wheels_owner_idx ON year_wheels (owner_id, created_at DESC);

-- Rings, activity groups and labels belong to the wheel and are shared by all its pages
-- (the original moved them to page scope once and reverted: cross-year items need the same ring).
-- Names are unique per wheel, case-insensitively: an append import reuses them by name.
CREATE TABLE wheel_rings (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wheel_id    uuid NOT NULL REFERENCES year_wheels (id) ON DELETE CASCADE,
    name        text NOT NULL,
    type        text NOT NULL DEFAULT 'inner',
    color       text,
    orientation text,
    visible     boolean NOT NULL DEFAULT true,
    ring_order  integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wheel_rings_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT wheel_rings_type_valid CHECK (type IN ('inner', 'outer')),
    CONSTRAINT wheel_rings_color_hex CHECK (color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$'),
    CONSTRAINT wheel_rings_orientation_valid CHECK (orientation IS NULL OR orientation IN ('vertical', 'horizontal')),
    CONSTRAINT wheel_rings_order_positive CHECK (ring_order >= 0)
);
CREATE UNIQUE INDEX wheel_rings_wheel_name_key ON wheel_rings (wheel_id, lower(name));
COMMENT ON COLUMN wheel_rings.orientation IS 'Text orientation of an inner ring; NULL reads as vertical.';

CREATE TABLE activity_groups (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wheel_id    uuid NOT NULL REFERENCES year_wheels (id) ON DELETE CASCADE,
    name        text NOT NULL,
    color       text NOT NULL,
    visible     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT activity_groups_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT activity_groups_color_hex CHECK (color ~ '^#[0-9A-Fa-f]{6}$')
);
CREATE UNIQUE INDEX activity_groups_wheel_name_key ON activity_groups (wheel_id, lower(name));

CREATE TABLE labels (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wheel_id    uuid NOT NULL REFERENCES year_wheels (id) ON DELETE CASCADE,
    name        text NOT NULL,
    color       text NOT NULL,
    visible     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT labels_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT labels_color_hex CHECK (color ~ '^#[0-9A-Fa-f]{6}$')
);
CREATE UNIQUE INDEX labels_wheel_name_key ON labels (wheel_id, lower(name));

-- One page per calendar year per wheel, ordered by page_order. The order constraint is
-- deferrable so that pages can be renumbered by year in one statement.
CREATE TABLE wheel_pages (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wheel_id    uuid NOT NULL REFERENCES year_wheels (id) ON DELETE CASCADE,
    year        integer NOT NULL,
    title       text,
    page_order  integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wheel_pages_year_range CHECK (year BETWEEN 1900 AND 2100),
    CONSTRAINT wheel_pages_order_positive CHECK (page_order > 0),
    CONSTRAINT wheel_pages_title_length CHECK (title IS NULL OR char_length(title) <= 200),
    CONSTRAINT wheel_pages_wheel_year_key UNIQUE (wheel_id, year),
    CONSTRAINT wheel_pages_wheel_order_key UNIQUE (wheel_id, page_order) DEFERRABLE INITIALLY IMMEDIATE
);

-- Items are the bulk of every import (hundreds of thousands of rows). Their references are
-- not declared as foreign keys: a foreign key checks each row with its own query, which made
-- COPY four times slower. The triggers in 0002 enforce the same integrity (and more: every
-- reference must belong to the item's own wheel) with one set-based query per statement.
CREATE TABLE items (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wheel_id            uuid NOT NULL,
    page_id             uuid NOT NULL,
    ring_id             uuid NOT NULL,
    group_id            uuid NOT NULL,
    label_id            uuid,
    name                text NOT NULL,
    start_date          date NOT NULL,
    end_date            date NOT NULL,
    description         text,
    source              text NOT NULL DEFAULT 'import',
    cross_year_group_id uuid,
    import_job_id       uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT items_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT items_date_order CHECK (end_date >= start_date),
    CONSTRAINT items_description_length CHECK (description IS NULL OR char_length(description) <= 10000),
    CONSTRAINT items_source_valid CHECK (source IN ('manual', 'import', 'google_calendar', 'google_sheets'))
);
-- Every read and every cascade is scoped by wheel; one index serves them all.
CREATE INDEX items_wheel_page_idx ON items (wheel_id, page_id, start_date);
CREATE INDEX items_cross_year_idx ON items (cross_year_group_id) WHERE cross_year_group_id IS NOT NULL;
COMMENT ON COLUMN items.group_id IS 'The activity group (activity_id in the original schema).';
COMMENT ON COLUMN items.cross_year_group_id IS 'Shared by the per-year pieces of one activity that crosses a year boundary.';
COMMENT ON COLUMN items.import_job_id IS 'Provenance: the import that wrote the item. Kept as a plain value after the job is purged.';
