// Package bench holds the benchmarks behind `spockchaos bench`: each one
// measures a part of the harness against a baseline that does the same
// work without it.
//
// What it promises:
//   - Each bench starts its own cluster (or bare nodes) from the
//     harness.Config it is given, and removes it before it returns; only
//     Verify can instead be pointed at servers that already run (DSNs).
//   - The baseline (Up, Workload, Verify; Recovery reports a rate) is
//     measured in the same run, on the same cluster or image, alternating
//     with the measurement, so that load from elsewhere on the machine
//     slows both alike; medians are compared. RTO's baseline is the floor:
//     the same transactions applied on the same target right after the
//     recovery, under the same load, with nothing to decode; its ratio is
//     the recovery alone (start to every survivor level) over the floor,
//     the kill's docker confirmation being reported apart (KillRatio
//     includes it).
//   - Each bench returns its figures in a result struct (medians, the
//     ratio or rate, every run's or round's own figures). It returns an
//     error only when it could not measure; a measurement that came out
//     wrong (Verify missing a difference, Recovery recovering a different
//     number of transactions) is in the result for the caller to judge.
//   - No flag parsing and no printing, except one line per step written
//     as it goes to the options' Progress writer (nil: nothing). Up fails
//     when it cannot remove a cluster it timed; Recovery and Verify log
//     one they cannot remove at the end with log/slog.
//
// What it does not do: set GOMAXPROCS (the caller's choice, as
// WorkloadResult.GOMAXPROCS records) or build images inside a timed part.
package bench
