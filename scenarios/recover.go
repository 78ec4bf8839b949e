package scenarios

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/slots"
	"github.com/spockchaos/spockchaos/recovery/strategies"
)

// recover runs the run's recovery strategy for failed on the nodes still
// alive. With a kill-during-recovery step pending, it kills that survivor
// while the strategy runs, then runs recovery again on the remaining
// survivors, and then recovers the second victim too.
func (r *run) recover(ctx context.Context, failed string) error {
	strategy, err := strategies.Lookup(r.opts.Recovery)
	if err != nil {
		return err
	}
	victim := r.killDuringRecovery
	r.killDuringRecovery = ""
	if victim == "" || victim == failed || !slices.Contains(r.alive, victim) {
		res, err := strategy.Recover(ctx, r.recoveryInput(failed))
		r.addRecovery(res, "")
		r.recordLevel(failed, err, res)
		return err
	}

	type attempt struct {
		res *recovery.Result
		err error
	}
	first := make(chan attempt, 1)
	go func() {
		res, err := strategy.Recover(ctx, r.recoveryInput(failed))
		first <- attempt{res, err}
	}()
	f := fault.New(fault.Kill(r.cluster, victim), r.rec)
	r.addFault(Step{Kind: StepKillRecovery, Node: victim}, r.rec.InFlight(victim), "killed while recovery of "+failed+" ran")
	killErr := f.InjectAndConfirm(ctx)
	r.endFault(victim)
	var a attempt
	select {
	case a = <-first:
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("recovery of %s: no result within 5m after %s was killed", failed, victim)
	}
	if killErr != nil {
		return killErr
	}
	r.markFailed(victim)
	note := fmt.Sprintf("attempt 1 of recovery of %s ran while survivor %s was killed", failed, victim)
	if a.err != nil {
		note += fmt.Sprintf(" and stopped: %v", a.err)
	} else {
		note += " and finished before the kill took effect"
	}
	r.addRecovery(a.res, note)
	res, err := strategy.Recover(ctx, r.recoveryInput(failed))
	r.addRecovery(res, fmt.Sprintf("attempt 2 of recovery of %s on the remaining survivors %s", failed, strings.Join(r.alive, ",")))
	r.recordLevel(failed, err, res, a.res)
	if err != nil {
		return err
	}
	res, err = strategy.Recover(ctx, r.recoveryInput(victim))
	r.addRecovery(res, fmt.Sprintf("recovery of %s, killed during the recovery of %s", victim, failed))
	r.recordLevel(victim, err, res)
	return err
}

// recoverySession is what a run keeps for its recoveries: the recovery
// slot keeper and the standby running through the load (slots.go,
// standby.go), the survivor to kill during the next recovery, and every
// recovery's result merged, with the keeper's report: recovery's own
// types, converted into the record when the run closes it (record.go).
type recoverySession struct {
	// keeper advances the recovery slots during the load; its samples
	// place the recoveries' streams (input). Nil outside the load.
	keeper *slots.Keeper
	// standby keeps connections open for the recovery. Nil outside the
	// load.
	standby      *slots.Standby
	recovered    *recovery.Result
	keeperReport *recovery.KeeperReport

	killDuringRecovery string // survivor to kill during the next recovery
}

// input is the recovery input for failed on the live nodes, with the
// keeper's samples and the standby's connections.
func (s *recoverySession) input(failed, flavor string, logger *slog.Logger, live []*harness.Node) recovery.Input {
	in := recovery.Input{Failed: failed, Flavor: flavor, Logger: logger, Standby: s.standby, Keeper: s.keeper}
	for _, n := range live {
		sv := recovery.SurvivorOf(n)
		if s.keeper != nil {
			sv.Samples = s.keeper.Samples(n.Name, failed)
		}
		in.Survivors = append(in.Survivors, sv)
	}
	return in
}

// add merges one recovery result (nil: the strategy returned none) into
// the session's (recovery.Result.Merge), note first in its note.
func (s *recoverySession) add(res *recovery.Result, strategy, note string) {
	if res == nil {
		res = &recovery.Result{Strategy: strategy, Errors: []string{"the strategy returned no result"}}
	}
	if note != "" {
		res.Note = strings.TrimSpace(note + ". " + res.Note)
	}
	if s.recovered == nil {
		copied := *res
		s.recovered = &copied
		return
	}
	s.recovered.Merge(res)
}

func (r *run) recoveryInput(failed string) recovery.Input {
	return r.recoverySession.input(failed, r.opts.Flavor, r.opts.Logger, r.nodes(r.alive))
}

// addRecovery merges one recovery result into the run's.
func (r *run) addRecovery(res *recovery.Result, note string) {
	r.recoverySession.add(res, r.opts.Recovery, note)
}

// recordLevel records the recovery time of failed (record.RecoveryTime):
// from its kill (the last kill fault of the node; its end is when the kill
// was confirmed) to now, when the strategy's last attempt for it returned
// last and err. The survivors are level when err is nil and last has no
// finding. Earlier attempts (a survivor killed during the first one) add
// their transactions and decode and apply times.
func (r *run) recordLevel(failed string, err error, last *recovery.Result, earlier ...*recovery.Result) {
	now := time.Now().UTC()
	rt := record.RecoveryTime{Node: failed}
	if f, ok := r.report.LastKill(failed); ok {
		rt.Killed, rt.Detected = f.Start, f.End
	}
	if rt.Killed.IsZero() {
		return // not a kill (nothing to time)
	}
	if rt.Detected.IsZero() || rt.Detected.After(now) {
		rt.Detected = now
	}
	rt.DetectSeconds = rt.Detected.Sub(rt.Killed).Seconds()
	switch {
	case err != nil:
		rt.Error = err.Error()
	case last == nil:
		rt.Error = "the strategy returned no result"
	case last.Strategy == "none":
		rt.Error = "not recovered (strategy none)"
	case len(last.Findings) > 0:
		rt.Error = strings.Join(last.Findings, "; ")
	default:
		rt.Level = now
		rt.Seconds = now.Sub(rt.Killed).Seconds()
		rt.RecoverSeconds = now.Sub(rt.Detected).Seconds()
	}
	for _, res := range append([]*recovery.Result{last}, earlier...) {
		if res == nil {
			continue
		}
		rt.Transactions += res.TransactionsRecovered
		// One stream per source feeds all its targets side by side:
		// its decode time counts once.
		decode := map[string]float64{}
		for _, p := range res.PerPair {
			rt.ApplySeconds += p.ApplyDuration.Seconds()
			decode[p.Source] = max(decode[p.Source], p.DecodeDuration.Seconds())
		}
		for _, d := range decode {
			rt.DecodeSeconds += d
		}
	}
	r.report.AddRecoveryTime(rt)
}
