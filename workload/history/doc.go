// Package history is the record of a run: client operations (invoke, then
// one of ok / fail / info) and fault events, in order, as JSON Lines. It is
// the single source of truth for every checker, so it must be exact.
//
// Op and its constants are the stable contract shared by workloads, faults,
// checkers and reports. Recorder writes a history (safe for many clients;
// Flush at every phase end). Load / Read / ReadAll read one back and
// Validate it: indexes gapless from 0, each process has at most one open
// invoke, and every completion follows an open invoke of the same process
// with the same f and node. Only the last line may be malformed (the
// harness died mid-write): it is dropped and reported (ReadResult), not an
// error. A line is read with at most 64 MB held (a file with no newline in
// gigabytes is refused, not loaded), and a line that is not UTF-8 is
// malformed (encoding/json would silently replace the bytes). An empty
// history is a valid one (a run that stopped before its load). Pairs
// matches invokes with completions; an invoke without one counts as Info.
package history
