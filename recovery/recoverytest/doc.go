// Package recoverytest builds the situation recovery exists for, on a
// running pglogical cluster, for the recovery specs: one survivor's feed from a node is lagged, that node writes
// ledger transactions that only the other survivors receive, then it is
// killed. It also reads back what the survivors hold, to compare them.
//
// Test support only: no production package imports it. Its kill,
// restart, lag and enable are harness/fault's (KillNow, StartNode,
// Disable, Enable), its ledger the workload's; what it adds is the
// situation's shape and the read-backs the specs compare. It also keeps
// the barrier-based AdvanceSlots, which only specs use.
package recoverytest
