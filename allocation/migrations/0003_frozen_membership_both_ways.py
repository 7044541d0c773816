"""A participant or unit can neither leave a committed round (UPDATE moving it to a draft, or
DELETE) nor join one (INSERT, or UPDATE moving it in). Replaces the first version, which only
looked at the row's new round. (TRUNCATE is a table owner's privilege, not the application's:
production runs the app as a role without it.)"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION allocation_refuse_member_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND EXISTS (
        SELECT 1 FROM allocation_round WHERE id = OLD.round_id AND status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'round % is committed: % on % refused', OLD.round_id, TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP <> 'DELETE' AND EXISTS (
        SELECT 1 FROM allocation_round WHERE id = NEW.round_id AND status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'round % is committed: % on % refused', NEW.round_id, TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

"""
# Going back keeps this function: the first version would reopen the hole.
DROP = migrations.RunSQL.noop


class Migration(migrations.Migration):
    dependencies = [("allocation", "0002_frozen_commitment")]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
