package recovery

import (
	"context"
	"fmt"
)

// Auto picks the best strategy for the cluster: Spock's own runbook when
// the flavor is spock and a recovery API is detected, else reference.
// Its strategies and the detection are given (recovery/strategies builds
// it), since they live in packages that import this one.
type Auto struct {
	Spock, Reference Strategy
	// Detect names the Spock recovery API the survivors offer ("": none).
	Detect func(ctx context.Context, in Input) (string, error)
}

func (Auto) Name() string { return "auto" }

func (a Auto) Recover(ctx context.Context, in Input) (*Result, error) {
	if in.Flavor == "spock" {
		api, err := a.Detect(ctx, in)
		if err == nil && api != "" {
			res, err := a.Spock.Recover(ctx, in)
			res.Note = joinNote(fmt.Sprintf("auto: chose spock (%s API detected)", api), res.Note)
			return res, err
		}
		res, rerr := a.Reference.Recover(ctx, in)
		why := "no Spock recovery API detected"
		if err != nil {
			why = "Spock API detection failed: " + err.Error()
		}
		res.Note = joinNote("auto: chose reference ("+why+")", res.Note)
		return res, rerr
	}
	res, err := a.Reference.Recover(ctx, in)
	res.Note = joinNote("auto: chose reference (flavor "+in.Flavor+")", res.Note)
	return res, err
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}
