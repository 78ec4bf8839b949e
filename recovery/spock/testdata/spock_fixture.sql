-- TEST FIXTURE, NOT SPOCK. A schema "spock" with plpgsql functions of the
-- names and signatures of Spock's recovery-slot API (DESIGN.md section 4),
-- installed on a plain PostgreSQL node. It logs every call and returns
-- canned answers, so the spock strategy's runbook can be tested for call
-- order, concurrency, output parsing and its distrust of `t` returns. It
-- proves the runbook's mechanics only, nothing about Spock itself.
-- Its log and settings live in schema spock too (spock.fixture_*), so that
-- the rows it writes are not counted as user data by the measurements.
CREATE SCHEMA spock;

CREATE TABLE spock.fixture_calls (id bigserial PRIMARY KEY, fn text NOT NULL, args text NOT NULL,
  started timestamptz NOT NULL, ended timestamptz NOT NULL);
-- move_to: when set, coordinate_cluster_recovery commits 3 ledger rows
-- through the node's origin for n1 at that LSN (a recovery with effect).
-- sleep_s: how long coordinate_cluster_recovery takes.
-- polls_in_recovery: how many get_recovery_slot_info calls report a slot
-- in recovery before it reports none.
CREATE TABLE spock.fixture_config (move_to pg_lsn, sleep_s float8 NOT NULL, polls_in_recovery int NOT NULL);
INSERT INTO spock.fixture_config VALUES (NULL, 0.3, 2);

CREATE TABLE spock.node (node_id oid PRIMARY KEY, node_name text NOT NULL);
INSERT INTO spock.node VALUES (49708, 'n1'), (26863, 'n2'), (9057, 'n3');
CREATE TABLE spock.subscription (sub_name text PRIMARY KEY, sub_slot_name text NOT NULL);

CREATE TABLE public.ledger (txn_id text NOT NULL, seq int NOT NULL, origin text NOT NULL, payload text NOT NULL, PRIMARY KEY (txn_id, seq));

CREATE FUNCTION spock.coordinate_cluster_recovery(failed_node_id oid) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  c spock.fixture_config;
  o text;
BEGIN
  SELECT * INTO c FROM spock.fixture_config;
  PERFORM pg_sleep(c.sleep_s);
  IF c.move_to IS NOT NULL THEN
    SELECT sub_slot_name INTO o FROM spock.subscription LIMIT 1;
    PERFORM pg_replication_origin_session_setup(o);
    PERFORM pg_replication_origin_xact_setup(c.move_to, now());
    INSERT INTO public.ledger SELECT 'moved-' || g, 1, 'n1', 'p' FROM generate_series(1, 3) g;
  END IF;
  INSERT INTO spock.fixture_calls (fn, args, started, ended) VALUES ('coordinate_cluster_recovery', failed_node_id::text, t0, clock_timestamp());
  RETURN true;
END $$;

CREATE FUNCTION spock.get_recovery_slot_info() RETURNS TABLE (local_node_id oid, remote_node_id oid, slot_name text,
  restart_lsn pg_lsn, confirmed_flush_lsn pg_lsn, min_unacknowledged_ts timestamptz, active bool, in_recovery bool,
  recovery_generation int) LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  INSERT INTO spock.fixture_calls (fn, args, started, ended) VALUES ('get_recovery_slot_info', '', clock_timestamp(), clock_timestamp());
  SELECT count(*) INTO n FROM spock.fixture_calls WHERE fn = 'get_recovery_slot_info';
  RETURN QUERY SELECT 1::oid, 49708::oid, 'spk_recovery_fixture'::text, '0/0'::pg_lsn, '0/0'::pg_lsn, now(), false,
    n <= (SELECT polls_in_recovery FROM spock.fixture_config), 1;
END $$;

CREATE FUNCTION spock.initiate_node_recovery(failed_node_id oid) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'TEST FIXTURE: initiate_node_recovery is not part of the runbook'; END $$;
CREATE FUNCTION spock.clone_recovery_slot(source_slot text, target_lsn text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'TEST FIXTURE: clone_recovery_slot must not be called (it hangs on real builds)'; END $$;
CREATE FUNCTION spock.advance_recovery_slot_to_lsn(slot text, lsn text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'TEST FIXTURE: advance_recovery_slot_to_lsn must not be called (it hangs on real builds)'; END $$;
CREATE FUNCTION spock.get_min_unacknowledged_timestamp(node oid) RETURNS timestamptz LANGUAGE sql AS $$ SELECT now() $$;
CREATE FUNCTION spock.detect_failed_nodes() RETURNS TABLE (node_id oid, node_name text, failure_reason text)
  LANGUAGE sql AS $$ SELECT NULL::oid, NULL::text, NULL::text WHERE false $$;
