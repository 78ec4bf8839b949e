// Package repro re-runs exactly what a stored run directory ran, and says
// whether the plan and the verdict came out the same.
//
// What it promises:
//   - Everything comes from the run directory's run.json (Load): scenario,
//     seed, nodes, flavor, image, recovery, load duration, clients per
//     node, the fault plan's steps, the server settings (run.json settings,
//     passed again; shrink replays through Recorded.Options too), the node
//     image used and the spockchaos version that made it. Nothing is taken from the current defaults
//     when the directory recorded it.
//   - The run is an ordinary scenarios.Run with its own new run
//     directory. When the scenario's plan for the seed today is the stored
//     one, the scenario runs as registered; when it is not (the catalog
//     changed, or the directory is a shrunk run), the stored steps are
//     replayed (scenarios.WithPlan) and a warning says so.
//   - Warnings, never refusals, for a different spockchaos version or a
//     different node image than the stored run's.
//   - Reproduced means: the same plan steps, the same verdict and the same
//     failing checkers; an unknown verdict (a harness error) never counts.
//
// What it does not do: compare histories or rows (two runs of one plan
// interleave differently; the verdict is what must reproduce), or start
// anything before the stored directory has been read in full.
package repro
