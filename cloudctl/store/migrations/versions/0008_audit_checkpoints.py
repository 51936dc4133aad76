"""Tamper-evident audit: the audit_checkpoint table; on PostgreSQL, the audit tables append-only.

PostgreSQL (docs/audit.md): UPDATE, DELETE and TRUNCATE on audit_log and audit_checkpoint are
revoked from every role that holds them (the owner included: appending needs only SELECT and
INSERT), and INSERT, DELETE and TRUNCATE on audit_head; statement triggers refuse UPDATE, DELETE
and TRUNCATE of those tables whatever is granted later; a row trigger lets a new audit_log row in
only if it extends the chain (next seq, previous row's hash); and audit_head, which every append
UPDATEs, may only move forward to the last row. What is left: the owner and superusers can still
disable triggers, which is what the signed checkpoints are for.

SQLite has no logins: whoever can write the file can change anything, and only the checkpoints
show it.

Revision ID: 0008audit
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0008audit"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_log", "audit_checkpoint")

FUNCTIONS = r"""
CREATE FUNCTION cloudctl_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %: the audit log is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'audit rows and checkpoints are never changed or removed (docs/audit.md)';
END $$;

CREATE FUNCTION cloudctl_audit_log_extends() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint := 0;
  last_hash text := repeat('0', 64);
BEGIN
  SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
  IF NOT FOUND THEN
    last_seq := 0;
    last_hash := repeat('0', 64);
  END IF;
  IF NEW.seq <> last_seq + 1 OR NEW.prev_hash <> last_hash THEN
    RAISE EXCEPTION 'audit_log row % does not extend the chain (the last row is %)', NEW.seq, last_seq
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'rows are only appended: seq = last seq + 1, prev_hash = the last row''s hash';
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION cloudctl_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.seq < OLD.seq
     OR NOT EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash)
     OR EXISTS (SELECT 1 FROM audit_log WHERE seq > NEW.seq) THEN
    RAISE EXCEPTION 'audit_head may only move forward to the last audit_log row (from % to %)', OLD.seq, NEW.seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION cloudctl_audit_refuse();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION cloudctl_audit_refuse();
CREATE TRIGGER audit_head_one_row BEFORE INSERT OR DELETE OR TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION cloudctl_audit_refuse();
CREATE TRIGGER audit_log_extends BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION cloudctl_audit_log_extends();
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION cloudctl_audit_head_forward();
"""

# Revoke from every grantee, PUBLIC and the owner included (aclexplode lists who holds what).
REVOKE = r"""
DO $$
DECLARE
  t text;
  who text;
BEGIN
  FOREACH t IN ARRAY ARRAY['audit_log', 'audit_checkpoint', 'audit_head'] LOOP
    EXECUTE format('REVOKE %s ON %I FROM PUBLIC',
                   CASE WHEN t = 'audit_head' THEN 'INSERT, DELETE, TRUNCATE' ELSE 'UPDATE, DELETE, TRUNCATE' END, t);
    FOR who IN SELECT DISTINCT pg_get_userbyid(a.grantee) FROM pg_class c, aclexplode(c.relacl) a
               WHERE c.oid = t::regclass AND a.grantee <> 0 LOOP
      EXECUTE format('REVOKE %s ON %I FROM %I',
                     CASE WHEN t = 'audit_head' THEN 'INSERT, DELETE, TRUNCATE' ELSE 'UPDATE, DELETE, TRUNCATE' END,
                     t, who);
    END LOOP;
  END LOOP;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("number", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(120), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)
        op.execute(TRIGGERS)
        op.execute(REVOKE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (("audit_log_append_only", "audit_log"), ("audit_log_extends", "audit_log"),
                               ("audit_checkpoint_append_only", "audit_checkpoint"),
                               ("audit_head_one_row", "audit_head"), ("audit_head_forward", "audit_head")):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for fn in ("cloudctl_audit_refuse", "cloudctl_audit_log_extends", "cloudctl_audit_head_forward"):
            op.execute(f"DROP FUNCTION {fn}()")
    op.drop_table("audit_checkpoint")
