// Package recoverytest builds the situation recovery exists for, on a
// running pglogical cluster, for the recovery specs and the recovery
// benchmark: one survivor's feed from a node is lagged, that node writes
// ledger transactions that only the other survivors receive, then it is
// killed. It also reads back what the survivors hold, to compare them.
//
// The rejoin-after-recovery scenario uses its restart, resubscribe and
// row-version helpers too.
//
// It kills with the Docker API directly (SIGKILL) rather than through the
// fault package, so that recovery does not depend on it.
package recoverytest
