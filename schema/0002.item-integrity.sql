-- Referential integrity of items, enforced per statement instead of per row.
-- depends: 0001.domain

-- The distinct references of a statement's rows: a few dozen even for 200,000 items.
CREATE TYPE item_refs_v1 AS (wheel_id uuid, page_id uuid, ring_id uuid, group_id uuid, label_id uuid);

-- After any INSERT or UPDATE of items: lock the referenced parents against deletion (as a
-- foreign key does, FOR KEY SHARE) and check that each one exists and belongs to the item's
-- wheel. One pass over the statement's rows (a hash aggregate into the few distinct
-- references), whatever their number; COPY of 200,000 rows pays it once.
-- SECURITY DEFINER, like Postgres' own RI checks, so the check sees rows the caller's RLS hides.
CREATE FUNCTION items_check_references_v1() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    refs item_refs_v1[];
    bad record;
BEGIN
    SELECT array_agg(ROW(wheel_id, page_id, ring_id, group_id, label_id)::item_refs_v1)
      INTO refs
      FROM (SELECT DISTINCT wheel_id, page_id, ring_id, group_id, label_id FROM new_items) d;

    PERFORM 1 FROM wheel_pages WHERE id IN (SELECT r.page_id FROM unnest(refs) r) FOR KEY SHARE;
    PERFORM 1 FROM wheel_rings WHERE id IN (SELECT r.ring_id FROM unnest(refs) r) FOR KEY SHARE;
    PERFORM 1 FROM activity_groups WHERE id IN (SELECT r.group_id FROM unnest(refs) r) FOR KEY SHARE;
    PERFORM 1 FROM labels WHERE id IN (SELECT r.label_id FROM unnest(refs) r) FOR KEY SHARE;

    SELECT n.wheel_id,
           CASE
               WHEN p.id IS NULL THEN 'items_page_fkey'
               WHEN r.id IS NULL THEN 'items_ring_fkey'
               WHEN g.id IS NULL THEN 'items_group_fkey'
               ELSE 'items_label_fkey'
           END AS constraint_name,
           CASE
               WHEN p.id IS NULL THEN n.page_id
               WHEN r.id IS NULL THEN n.ring_id
               WHEN g.id IS NULL THEN n.group_id
               ELSE n.label_id
           END AS missing
      INTO bad
      FROM unnest(refs) n
      LEFT JOIN wheel_pages p ON p.id = n.page_id AND p.wheel_id = n.wheel_id
      LEFT JOIN wheel_rings r ON r.id = n.ring_id AND r.wheel_id = n.wheel_id
      LEFT JOIN activity_groups g ON g.id = n.group_id AND g.wheel_id = n.wheel_id
      LEFT JOIN labels l ON l.id = n.label_id AND l.wheel_id = n.wheel_id
     WHERE p.id IS NULL OR r.id IS NULL OR g.id IS NULL
        OR (n.label_id IS NOT NULL AND l.id IS NULL)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'items of wheel % refer to %, which is missing or belongs to another wheel (%)',
                        bad.wheel_id, bad.missing, bad.constraint_name
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = bad.constraint_name,
                  TABLE = 'items';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER items_check_references_on_insert
    AFTER INSERT ON items REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION items_check_references_v1();
CREATE TRIGGER items_check_references_on_update
    AFTER UPDATE ON items REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION items_check_references_v1();

-- The parents' side: deleting a page, ring or group deletes its items (ON DELETE CASCADE);
-- deleting a label clears it (ON DELETE SET NULL). Set-based, through items_wheel_page_idx.
CREATE FUNCTION items_cascade_parent_delete_v1() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'wheel_pages' THEN
        DELETE FROM items i USING old_rows o WHERE i.wheel_id = o.wheel_id AND i.page_id = o.id;
    WHEN 'wheel_rings' THEN
        DELETE FROM items i USING old_rows o WHERE i.wheel_id = o.wheel_id AND i.ring_id = o.id;
    WHEN 'activity_groups' THEN
        DELETE FROM items i USING old_rows o WHERE i.wheel_id = o.wheel_id AND i.group_id = o.id;
    WHEN 'labels' THEN
        UPDATE items i SET label_id = NULL FROM old_rows o
         WHERE i.wheel_id = o.wheel_id AND i.label_id = o.id;
    END CASE;
    RETURN NULL;
END
$$;

CREATE TRIGGER wheel_pages_cascade_items AFTER DELETE ON wheel_pages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION items_cascade_parent_delete_v1();
CREATE TRIGGER wheel_rings_cascade_items AFTER DELETE ON wheel_rings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION items_cascade_parent_delete_v1();
CREATE TRIGGER activity_groups_cascade_items AFTER DELETE ON activity_groups
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION items_cascade_parent_delete_v1();
CREATE TRIGGER labels_cascade_items AFTER DELETE ON labels
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION items_cascade_parent_delete_v1();

-- A parent's key never changes: moving a ring to another wheel, or renumbering its id, would
-- leave items pointing across wheels. Fires only when those columns are assigned.
CREATE FUNCTION forbid_key_change_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.wheel_id IS DISTINCT FROM OLD.wheel_id THEN
        RAISE EXCEPTION '%.id and %.wheel_id cannot change', TG_TABLE_NAME, TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_TABLE_NAME || '_key_immutable';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER wheel_pages_key_immutable BEFORE UPDATE OF id, wheel_id ON wheel_pages
    FOR EACH ROW EXECUTE FUNCTION forbid_key_change_v1();
CREATE TRIGGER wheel_rings_key_immutable BEFORE UPDATE OF id, wheel_id ON wheel_rings
    FOR EACH ROW EXECUTE FUNCTION forbid_key_change_v1();
CREATE TRIGGER activity_groups_key_immutable BEFORE UPDATE OF id, wheel_id ON activity_groups
    FOR EACH ROW EXECUTE FUNCTION forbid_key_change_v1();
CREATE TRIGGER labels_key_immutable BEFORE UPDATE OF id, wheel_id ON labels
    FOR EACH ROW EXECUTE FUNCTION forbid_key_change_v1();
