// Package history is the record of a run: client operations (invoke, then
// one of ok / fail / info) and fault events, in order, as JSON Lines. It is
// the single source of truth for every checker, so it must be exact.
//
// Op and its constants are the stable contract shared by workloads, faults,
// checkers and reports.
package history
