package scenarios

import (
	"slices"
	"strings"

	"github.com/spockchaos/spockchaos/verify"
)

// A scenario can carry KnownFindings (finding.go): defects of one flavor,
// proven there, that it can hit. replication-process-faults (its
// kill-apply), rejoin-after-recovery (the fence's sub_disable, then
// the rejoin's enable), chaos and chaos-bank (their apply-worker faults
// and the restarts around a partition's heal) and provider-faults (the
// worker kills of its sub_disable and interface switch) carry SpockDiscardAfterTerm: on Spock 6.0 an apply
// worker ended by SIGTERM inside a transaction leaves that transaction's
// commit_lsn in its shared exception-log entry, and the next worker
// discards the resent transaction under exception_behaviour transdiscard
// (README, Testing a Spock build, has the LSNs). apply-worker-faults
// carries every Spock finding (SpockFindings): also SpockDiscardAfterCancel
// (a cancelled apply, SQLSTATE 57014, discarded; 5.0.x and 6.0),
// SpockDiscardDeadlockVictim (a deadlock's victim discarded; 5.0.x),
// SpockSubDisableLosesTxn and SpockDiscardModeLogsApplied (5.0.x in the
// sub_disable and discard modes; provider-faults carries them too). On
// that flavor the Spock suite accepts the expected verdict or a FAIL the
// scenario's findings explain together, every failing checker (Explain: each node
// lacking a class's rows logged, in a discard line one of the findings
// owns, in any release's wording, the discard of its first and last
// transactions, and its discards in between changed at least as many
// rows); the CLI says which findings. The crash scenarios (crash-restart,
// delta-counter-crash-restart, schema-features-crash-restart, chaos,
// chaos-bank, chaos-overlap) carry SpockDoubleApplyAfterCrash: Explain
// takes double-apply's duplicates when the node's log shows a crash
// recovery between their commits, and what they doubled (finding_crash.go).
// A finding with AppliedRowLogs explains exception_log rows in its
// wording when exception-audit is the only failing checker; one with
// HoldLogs, the exception_log rows of a transaction the subscriber
// disabled its subscription over. On pglogical, unique-conflict-crash-restart
// carries PglogicalTieAppliesRemote (finding_tie.go): two inserts of one
// unique value committed in the same microsecond swap keys.
// A FAIL counts as the findings' only when every failing checker is
// explained.

// Finding is a defect of the system under test, proven on one flavor,
// that a scenario can hit there: on that flavor the scenario's verdict is
// its Expect, or a FAIL that Explain attributes to its findings, every
// failing checker of it. Anything else is still a failure of the spec.
// Record the facts in README ("Testing a Spock build") and the scenario's
// doc, and drop the finding when the flavor fixes it.
type Finding struct {
	// Flavor is the flavor the finding was proven on.
	Flavor string
	// Name is a short name for reports.
	Name string
	// Summary is the finding in one sentence.
	Summary string
	// DiscardLogs are the server log lines (one text per wording of the
	// flavor's releases) the subscriber that lost the transaction writes
	// when it discards it; the log's next line (its CONTEXT) names the
	// transaction's commit time and its COMMIT's action number.
	DiscardLogs []string
	// InitialErrors: a discard line is the finding's when the initial
	// error it carries (after ". Initial error: ") holds one of these;
	// none: when it carries no initial error. AnyInitialError: whatever
	// it carries, or none.
	InitialErrors   []string
	AnyInitialError bool
	// AppliedAgainAfterCrash: the finding is a subscriber applying remote
	// transactions a second time after its own crash recovery. Explain
	// then takes double-apply's duplicates on a node whose log shows a
	// crash recovery between their commits, and what they doubled there
	// (delta-counter's "too many", convergence's delta_counter.n).
	AppliedAgainAfterCrash bool
	// AppliedRowLogs: the finding is the subscriber logging rows it
	// applied to spock.exception_log as discarded; these are the
	// error_message prefixes of such rows. Explain then takes
	// exception-audit's rows with one of them when no other checker
	// failed: every row is on every survivor and every acknowledged
	// write is there, so none was discarded.
	AppliedRowLogs []string
	// HoldLogs are the lines (one per wording) with which the subscriber,
	// instead of discarding the transaction, disables the subscription
	// over it (exception_behaviour sub_disable), having logged its rows
	// to spock.exception_log as discarded; the transaction comes again
	// once the subscription is enabled. Their CONTEXT names it as a
	// discard's does, and the same initial-error rule picks the lines
	// the finding owns. Explain takes exception-audit's rows of such a
	// transaction, never rows missing.
	HoldLogs []string
	// CommitTimeTies: the finding is last-update-wins resolving a tie of
	// commit times (to the microsecond) on every node by the same rule
	// ("apply the remote row"), so that two nodes swap. Explain then takes
	// unique-conflict's disagreements that are ties (verify.UniqTie: every
	// survivor's row committed at the same instant, read from the servers'
	// pg_commit_ts) and convergence's uniq_kv rows of exactly those keys
	// (finding_tie.go).
	CommitTimeTies bool
}

// spockDiscardLogs are the lines Spock's handle_commit (src/spock_apply.c)
// logs when it discards a transaction under exception_behaviour
// transdiscard: 6.0 (main) and 5.0.7 to 5.0.11.
var spockDiscardLogs = []string{"Transaction discarded in TRANSDISCARD mode", "transaction discarded (TRANSDISCARD)"}

// initialErrorMark precedes the initial error on a discard line (every
// release, when the worker caught one).
const initialErrorMark = ". Initial error: "

// SpockDiscardAfterTerm: Spock 6.0 (main fd2c484) silently discards a
// transaction whose apply worker was ended by SIGTERM between its BEGIN
// and its COMMIT. handle_begin (src/spock_apply.c) stores every incoming
// transaction's commit_lsn in the subscription's shared-memory exception
// log entry; on SIGTERM (pg_terminate_backend, or sub_disable(name, true),
// which kills the worker with SIGTERM) apply_work breaks out of its
// message loop with the entry still set ("falling out of apply_work()
// sigterm=true"): only the connection-error and deadlock paths clear it
// (clear_transient_exception_state). The provider resends the transaction
// (the origin never passed it); the new worker's first BEGIN carries the
// same commit_lsn, so handle_begin takes it for a transaction that failed
// before and sets use_try_block; under the default
// spock.exception_behaviour = transdiscard handle_commit then logs every
// row to spock.exception_log as "transdiscard: tuple discarded due to
// exception (root cause not captured)", commits nothing of it and
// advances the origin past it ("Transaction discarded in TRANSDISCARD mode
// at LSN ..."). No error ever occurred, so the line carries no initial
// error. Spock 5.0.7 to 5.0.11 store the commit_lsn the same way and
// discard so too ("transaction discarded (TRANSDISCARD) at LSN ...";
// measured on 5.0.7 to 5.0.9, apply-worker-faults seed 7); 5.0.8 to
// 5.0.10 also after a connection error inside a transaction (a cancelled
// walsender: "connection error during apply, exiting via rethrow: ...
// data stream ended"), which 5.0.11 and 6.0 clear first.
// sub_disable(name, false) is no safer: 6.0's manager kills every running
// worker of a disabled subscription (spock_manager.c), so a join's freeze
// of its source loses the same way (join-under-load seed 7).
//
// Under exception_behaviour sub_disable 6.0 takes the resent transaction
// for a failed one the same way, with no error at all: it logs its rows to
// exception_log as "sub_disable: tuple discarded due to exception (root
// cause not captured)" and disables the subscription ("Transaction
// failed, subscription will be disabled at LSN 0/A95C4E0", CONTEXT xid
// 86365, no initial error; provider-faults seed 7). The rows arrive once
// the subscription is enabled again: a needless stop, and exception_log
// rows for rows that were applied (HoldLogs).
var SpockDiscardAfterTerm = Finding{
	Flavor: "spock", Name: "spock-discards-txn-after-sigterm",
	Summary:     "a transaction whose apply worker got SIGTERM (pg_terminate_backend, or sub_disable immediate) between BEGIN and COMMIT is discarded by the next worker under exception_behaviour transdiscard (under sub_disable, 6.0 disables the subscription over it with no error)",
	DiscardLogs: spockDiscardLogs,
	HoldLogs:    spockHoldLogs,
}

// SpockDiscardAfterCancel: Spock 5.0.x and 6.0 (main fd2c484) discard a
// transaction whose apply was cancelled (SQLSTATE 57014: pg_cancel_backend
// of the apply worker, or its statement_timeout). apply_work's PG_CATCH
// (src/spock_apply.c) re-throws, for a restart and a retry, only
// connection errors (5.0.x and 6.0) and, on 6.0 (f3d4935e), deadlocks,
// lock timeouts and resource errors (class 53); any other error, a query
// cancel included, is taken for a failed apply: "caught initial
// exception", the transaction is aborted and replayed from the queue with
// use_try_block. Under the default spock.exception_behaviour =
// transdiscard the replay rolls back each row in its subtransaction and
// logs it to spock.exception_log, and handle_commit advances the origin
// past the transaction ("Transaction discarded in TRANSDISCARD mode at LSN
// ... Initial error: [SQLSTATE 57014] canceling statement due to user
// request"; 5.0.7 to 5.0.11 "transaction discarded (TRANSDISCARD) ...",
// 5.0.7 to 5.0.9 without the SQLSTATE). The rows were valid: a cancel
// loses a whole transaction on that subscriber.
var SpockDiscardAfterCancel = Finding{
	Flavor: "spock", Name: "spock-discards-txn-after-cancel",
	Summary:       "a transaction whose apply was cancelled (SQLSTATE 57014: pg_cancel_backend of the apply worker) is discarded under exception_behaviour transdiscard instead of retried",
	DiscardLogs:   spockDiscardLogs,
	HoldLogs:      spockHoldLogs,
	InitialErrors: []string{"SQLSTATE 57014", "canceling statement due to user request", "canceling statement due to statement timeout"},
}

// SpockDiscardDeadlockVictim: Spock 5.0.7 to 5.0.11 discard a transaction
// whose apply was chosen as a deadlock's victim (SQLSTATE 40P01, e.g.
// against a local session's locks). Their apply_work's PG_CATCH
// (src/spock_apply.c) re-throws only connection errors; a deadlock takes
// the failed-apply path of SpockDiscardAfterCancel and, under the default
// exception_behaviour transdiscard, the transaction is discarded
// ("transaction discarded (TRANSDISCARD) at LSN ... Initial error:
// [SQLSTATE 40P01] deadlock detected"). Spock main fixes it in f3d4935e
// ("Retry the apply worker's transaction on transient errors", in no 5.0
// tag): a deadlock or lock timeout restarts the worker, which applies the
// transaction again.
var SpockDiscardDeadlockVictim = Finding{
	Flavor: "spock", Name: "spock-discards-deadlock-victim",
	Summary:       "a transaction whose apply was a deadlock's victim (SQLSTATE 40P01) is discarded under exception_behaviour transdiscard instead of retried (5.0.x; main retries it)",
	DiscardLogs:   spockDiscardLogs,
	InitialErrors: []string{"SQLSTATE 40P01", "deadlock detected"},
}

// spockSubDisableLogs is the line Spock 5.0.x's handle_commit logs when
// it "handles" a failed transaction under exception_behaviour
// sub_disable; its CONTEXT names the transaction as a discard's does.
var spockSubDisableLogs = []string{"exception handled (SUB_DISABLE)"}

// spockHoldLogs is the line Spock 6.0's handle_commit (src/spock_apply.c)
// logs under exception_behaviour sub_disable when the replay of a
// transaction taken for a failed one found no error: it commits the rows'
// exception_log entries, not the rows, then disables the subscription
// ("disabling subscription due to exceptions"). Measured (provider-faults
// seed 7 --set spock.exception_behaviour=sub_disable, 6.0 main fd2c484a):
// the transaction came again once the subscription was enabled, and
// convergence and durability passed.
var spockHoldLogs = []string{"Transaction failed, subscription will be disabled"}

// discardLogs are every wording discardsIn reads.
var discardLogs = slices.Concat(spockDiscardLogs, spockSubDisableLogs, spockHoldLogs)

// SpockSubDisableLosesTxn: Spock 5.0.11 under exception_behaviour
// sub_disable loses the transaction it should hold back: after an apply
// error (a cancel, 57014; a deadlock's victim, 40P01) or a SIGTERM inside
// the transaction (no initial error), the worker logs "exception handled
// (SUB_DISABLE) at LSN ..." (CONTEXT: its xid, commit time and action
// count), replays it with use_try_block, finds no error and fails with
// "exception handling had no exception(s) during replay in TRANSDISCARD
// or SUB_DISABLE mode"; the next worker goes on past it with the
// subscription still enabled and the transaction's rows logged to
// exception_log as "sub_disable: tuple discarded due to exception". 6.0
// (main fd2c484a) disables the subscription instead ("Transaction failed,
// subscription will be disabled"), as the mode says. Measured:
// apply-worker-faults and provider-faults seed 7 with --set
// spock.exception_behaviour=sub_disable on 5.0.11.
var SpockSubDisableLosesTxn = Finding{
	Flavor: "spock", Name: "spock-sub-disable-loses-txn",
	Summary:         "under exception_behaviour sub_disable a failed or interrupted transaction is logged as handled, then skipped with the subscription left enabled (5.0.11; 6.0 disables the subscription)",
	DiscardLogs:     spockSubDisableLogs,
	AnyInitialError: true,
}

// SpockDoubleApplyAfterCrash: Spock 6.0 (main fd2c484a) applies remote
// transactions twice on a node after that node's crash recovery.
// handle_origin (src/spock_apply.c; 5.0.11 the same) sets
// replorigin_session_origin to the remote node's Spock node_id, so every
// local commit record is stamped with that id (no pg_replication_origin
// row has it) and crash redo (xact_redo_commit) advances that id's
// progress, not the subscription's origin. After the crash the
// subscription's origin is back where it was last WAL-logged, at the
// subscription's start ("SPOCK sub_n2_n1: reconcile: new entry seeded at
// origin LSN 0/166FD40" on 6.0); the worker asks to stream from there,
// the provider resends every transaction after its slot's
// confirmed_flush, and the subscriber, which has no check of its own,
// applies them again. With delta apply every increment is added twice
// (delta-counter-crash-restart seed 8: key 1 +146 on n2); inserts hit
// insert_exists and are rewritten, with nothing visible. Evidence in n2's
// WAL (crash-restart seed 7, 30 duplicates): "origin 49708 (n1) lsn
// 0/19DD928 committed 2 times (xid 4002 at 0/019DFC10, xid 4035 at
// 0/019EEDF8)" around "redo done at 0/19E7FA0"; after the run n2's
// pg_replication_origin_status holds an unregistered local_id 49708 (n1's
// node_id) at the last duplicated origin LSN.
var SpockDoubleApplyAfterCrash = Finding{
	Flavor: "spock", Name: "spock-double-applies-after-crash",
	Summary:                "after a subscriber's crash recovery its subscription's origin is behind what it applied (commits are stamped with the provider's node_id, which redo advances instead) and the resent transactions are applied again: delta increments doubled",
	AppliedAgainAfterCrash: true,
}

// SpockDiscardModeLogsApplied: Spock 5.0.x under exception_behaviour
// discard logs every row of a replayed transaction to spock.exception_log
// as discarded, though it applied them. After an apply error (a cancel,
// 57014; a deadlock's victim, 40P01: "caught initial exception") or a
// SIGTERM inside a transaction (its commit_lsn left in the shared entry,
// see SpockDiscardAfterTerm) the worker replays the transaction with
// use_try_block, each row in a subtransaction; in discard mode a row that
// succeeds is kept (ReleaseCurrentSubTransaction) and then logged anyway
// (log_insert_exception / _update_ / _delete_ with failed = false under
// the default spock.exception_logging = all), its message
// discard_collateral_message's "discard: tuple discarded due to exception
// at command_counter N" (5.0.10 and 5.0.11; "unavailable" before), in
// the apply transaction, which commits (src/spock_apply.c, v5.0.11).
// The audit trail says a row was discarded that every node holds. 6.0
// (main, d8cf5db8 "log discarded DMLs to exception_log via dry-run
// replay") logs only the rows that failed. Measured on 5.0.11 with --set
// spock.exception_behaviour=discard, seed 7: provider-faults, n1 logged
// the 10 rows of n3's xid 24750 as "discard: tuple discarded due to
// exception (root cause not captured)" after its sub-restart-cycle's
// SIGTERMs ("falling out of apply_work() sigterm=true"), every row on
// every node (convergence, durability pass; exception-audit the only
// failing checker); apply-worker-faults (an earlier build) 10,000 rows of
// the cancelled large transaction, all present. The row at the action that
// failed first is logged with the initial error itself as its message
// (log_insert_exception's err_msg when xact_action_counter equals the
// entry's failed_action), applied all the same: apply-worker-faults seed 7
// (2026-12-06), n2's xids 39005 and 52369 each one "[SQLSTATE 57014]
// canceling statement due to user request" row and four "discard: tuple
// discarded due to exception at command_counter 2" rows, every row on
// every node. Explain takes such a row when its transaction has rows in
// the applied-row wording and a finding takes its initial error.
var SpockDiscardModeLogsApplied = Finding{
	Flavor: "spock", Name: "spock-discard-mode-logs-applied-rows",
	Summary:        "under exception_behaviour discard a replayed transaction's rows are logged to spock.exception_log as discarded though they were applied (5.0.x; 6.0 logs only failed rows)",
	AppliedRowLogs: []string{"discard: tuple discarded due to exception"},
}

// SpockFindings are the Spock findings, for the scenarios whose faults
// reach them all.
var SpockFindings = []Finding{SpockDiscardAfterTerm, SpockDiscardAfterCancel, SpockDiscardDeadlockVictim, SpockSubDisableLosesTxn, SpockDiscardModeLogsApplied}

// Owns says whether a server log line is a discard of this finding.
func (f Finding) Owns(line string) bool { return f.owns(line, f.DiscardLogs) }

// Holds says whether a server log line is a disable over a transaction
// of this finding (HoldLogs).
func (f Finding) Holds(line string) bool { return f.owns(line, f.HoldLogs) }

// owns: line has one of wordings and an initial error (or none) the
// finding takes.
func (f Finding) owns(line string, wordings []string) bool {
	if !containsAny(line, wordings) {
		return false
	}
	if f.AnyInitialError {
		return true
	}
	_, initial, has := strings.Cut(line, initialErrorMark)
	if len(f.InitialErrors) == 0 {
		return !has
	}
	return has && containsAny(initial, f.InitialErrors)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// FindingsFor are the findings of spec on flavor ("": the default
// flavor; nil: none).
func (s *Spec) FindingsFor(flavor string) []Finding {
	var out []Finding
	for _, f := range s.KnownFindings {
		if f.Flavor == flavorOr(flavor) {
			out = append(out, f)
		}
	}
	return out
}

// Explains says whether this finding alone accounts for every differing
// row of a failed run (Explain).
func (f Finding) Explains(dir string, checkers []verify.CheckResult) (bool, string) {
	return Explain([]Finding{f}, dir, checkers)
}
