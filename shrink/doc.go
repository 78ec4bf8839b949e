// Package shrink searches, from a failing run directory, for a smaller run
// that still fails the same way: fewer fault steps, a shorter load, fewer
// clients per node, fewer nodes.
//
// What it promises:
//   - The original is re-run first (everything from its run.json, as
//     repro reads it). Only when the same checkers fail again does the
//     search go on; otherwise the result says not reproduced. A re-run
//     that errors or ends unknown is a harness error, not a verdict.
//   - "Still fails" means: no harness error, verdict fail, and the set of
//     checkers whose verdict is not pass is exactly the original's. A run
//     that errors, ends unknown, passes or fails other checkers is never
//     kept. With Confirm N (`--confirm N`, default 1) a candidate, the
//     original's re-run included, still fails only when N runs of it in a
//     row do: the runs stop at the first that does not, and its attempt
//     line says how many of the N did ("failed the same way 2 of 3 runs
//     in a row") and lists every run directory. Most of these failures
//     depend on timing: one failing run of a smaller candidate may be luck.
//   - The stages, in this order, each starting from the smallest failing
//     run so far: halving the load duration, never below the floor
//     (default 2 s), with the step offsets scaled alike (or, while the
//     steps are still exactly the seed's plan, the seed's plan at the
//     shorter load, so the result stays a plain `spockchaos run` line);
//     delta debugging (ddmin) over the plan's steps, keeping their order
//     (the empty plan is tried last, when one step is left); halving the
//     clients per node down to 1; one node fewer at a time, down to the
//     scenario's minimum, removing a node no step names and renaming the
//     nodes after it (when every node is named by a step, the stage
//     stops: a candidate without its steps' nodes would be another run).
//     A stage stops at its first candidate that does not still fail.
//     The load comes first: every later attempt is then cheaper, and it
//     is shortened while the plan still holds every step, so a failure
//     that some steps make certain (a lag before a kill) is not traded
//     early for one that fails only now and then (a kill alone loses the
//     victim's unsent transactions in some runs only; seen in CI).
//   - Every attempt is a normal run (scenarios.Run) with its own run
//     directory under the output folder. The same candidate never runs
//     twice. A candidate the scenario would refuse (scenarios.Validate)
//     is skipped without a run.
//   - Budget: at most Budget runs in all, the original's re-run and every
//     confirming run included (0: no limit; a candidate starts only when
//     all its Confirm runs fit), and no attempt starts once BudgetTime has passed
//     since the search began (0: no limit); the budget never cuts the run
//     in flight short. Ctrl-C ends the current run (it cleans up as any
//     run does) and the search; the smallest failing run so far is still
//     reported.
//   - Output: one line per attempt as it ends (what was tried, the
//     candidate, verdict, failing checkers, kept or not, its directory),
//     and the command line of the smallest failing run: `spockchaos run
//     ...` when it is the seed's own plan with the scenario's clients,
//     else `spockchaos repro DIR` of its run directory (repro replays the
//     stored plan and clients).
//
// The search logic (Search) takes a Runner, so it is tested without
// containers; Shrink wires it to a stored run directory and scenarios.Run.
//
// What it does not do: combine stages again after a later stage succeeded
// (one pass), bisect between a failing and a passing load, or change the
// seed, the workload, the flavor, the image or the recovery strategy.
package shrink
