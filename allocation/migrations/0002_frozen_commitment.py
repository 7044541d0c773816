"""Once a round is announced its participant list, units and declared entropy source are
frozen, and its draw is written once: the database refuses anything else, whoever asks."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION allocation_refuse_member_change() RETURNS trigger AS $$
DECLARE
    round_status text;
BEGIN
    SELECT status INTO round_status FROM allocation_round
        WHERE id = COALESCE(NEW.round_id, OLD.round_id);
    IF round_status IS DISTINCT FROM 'draft' AND round_status IS NOT NULL THEN
        RAISE EXCEPTION 'round % is committed: % on % refused',
            COALESCE(NEW.round_id, OLD.round_id), TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION allocation_refuse_round_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'round % is committed: DELETE refused', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.status = 'draft'
       OR (NEW.participants_sha256, NEW.lottery_name, NEW.lottery_date, NEW.lottery_sources,
           NEW.method, NEW.county_id, NEW.invitation, NEW.invite_count, NEW.announced_at)
          IS DISTINCT FROM
          (OLD.participants_sha256, OLD.lottery_name, OLD.lottery_date, OLD.lottery_sources,
           OLD.method, OLD.county_id, OLD.invitation, OLD.invite_count, OLD.announced_at) THEN
        RAISE EXCEPTION 'round % is committed: its list and entropy source cannot change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.draw_order IS NOT NULL
       AND (NEW.draw_order IS DISTINCT FROM OLD.draw_order
            OR NEW.seeds IS DISTINCT FROM OLD.seeds
            OR NEW.drawn_at IS DISTINCT FROM OLD.drawn_at) THEN
        RAISE EXCEPTION 'round % is drawn: the draw cannot change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGERS = """
CREATE TRIGGER allocation_participant_frozen BEFORE INSERT OR UPDATE OR DELETE
    ON allocation_participant FOR EACH ROW EXECUTE FUNCTION allocation_refuse_member_change();
CREATE TRIGGER allocation_roundunit_frozen BEFORE INSERT OR UPDATE OR DELETE
    ON allocation_roundunit FOR EACH ROW EXECUTE FUNCTION allocation_refuse_member_change();
CREATE TRIGGER allocation_round_frozen BEFORE UPDATE OR DELETE
    ON allocation_round FOR EACH ROW EXECUTE FUNCTION allocation_refuse_round_change();
"""
DROP = """
DROP TRIGGER IF EXISTS allocation_participant_frozen ON allocation_participant;
DROP TRIGGER IF EXISTS allocation_roundunit_frozen ON allocation_roundunit;
DROP TRIGGER IF EXISTS allocation_round_frozen ON allocation_round;
DROP FUNCTION IF EXISTS allocation_refuse_member_change();
DROP FUNCTION IF EXISTS allocation_refuse_round_change();
"""


class Migration(migrations.Migration):
    dependencies = [("allocation", "0001_initial")]

    operations = [migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP)]
