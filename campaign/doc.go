// Package campaign runs qualification campaigns: a matrix of scenarios x
// seeds x targets (flavor, image) x repeats, each cell one ordinary run
// of package scenarios with its own run directory, and the campaign's
// reports over all of them.
//
// What it promises:
//
//   - The matrix is a pure function of the flags (Matrix, SeedsFrom): every
//     machine computes the same cells in the same canonical order, and its
//     Fingerprint names the campaign.
//
//   - Sharding (--shard I/N, Partition) is deterministic and balanced by
//     estimated cost, and puts every cell in exactly one shard; the CI
//     engine (GitHub Actions matrix, Kubernetes Indexed Job) schedules the
//     shards, this package never does.
//
//   - A campaign directory is the unit of resume and merge:
//
//     campaign.json            the matrix and every cell (Campaign)
//     junit.xml                one testsuite per target, one testcase per cell
//     summary.md, campaign.html
//     cells/<id>/cell.json     written atomically when the cell ran to its end
//     cells/<id>/progress.log  the cell's own progress lines
//     cells/<id>/<run dir>/    the run directory scenarios.Run wrote
//
//     A cell is done exactly when its cell.json exists: a re-run into the
//     same directory skips done cells and re-runs the others (interrupted
//     ones included); Merge copies done cells of shard directories into
//     one and rebuilds the index; every report re-renders from the cells'
//     cell.json files alone (Index, WriteReports).
//
//   - Cancelling the context (Ctrl-C) stops the running cells the way
//     `spockchaos run` stops (cluster removed, run directory written) and
//     leaves them pending; nothing half-written is ever read as done.
//
//   - Verdicts are judged against the scenario's expected verdict
//     (kill-without-recovery expects fail). A cell's Outcome is as
//     expected, explained (a FAIL every failing checker of which the
//     scenario's known findings on that flavor explain with the server's
//     evidence, scenarios.Explain, run when the cell ends and again
//     whenever the campaign is indexed (run, report, merge) from the
//     cell's stored run, so a finding that lands later counts; none may
//     have failed to judge), unexpected, unknown, skipped or pending;
//     reports count explained apart. ExitCode: 0 every cell met it or is explained (a
//     known finding found again is what that target is expected to do),
//     1 a cell reached pass/fail other than expected and unexplained (a
//     finding outranks a harness error), 2 a harness error (unknown) or a
//     cell not run.
//
//   - Flaky: a scenario on a target with mixed verdicts across seeds or
//     repeats; a seed whose repeats disagree is flagged nondeterministic.
//     With two or more targets, TargetDiffs lists the scenarios whose
//     verdict differs between targets on the same seed and repeat.
//
//   - Server settings: Matrix.Settings (--set) go to every cell; a Sweep
//     (--sweep NAME=V1,V2,...) is an axis: CellTargets gives each target
//     once per value with Target.Setting = NAME=VALUE, so the cell ID,
//     the shards, every report and TargetDiffs tell the values apart. A
//     matrix without either marshals, and so fingerprints, as before.
//
// What it does not do: schedule across machines, retry cells (an
// unexpected verdict is a finding to explain, not to retry), or judge a
// run itself (that is the run's checkers).
package campaign
