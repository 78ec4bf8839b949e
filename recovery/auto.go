package recovery

import (
	"context"
	"fmt"
)

// Auto picks the best strategy for the cluster: Spock's own runbook when
// the flavor is spock and a recovery API is detected, else reference.
type Auto struct{}

func (Auto) Name() string { return "auto" }

func (Auto) Recover(ctx context.Context, in Input) (*Result, error) {
	if in.Flavor == "spock" {
		api, err := detectAPIOn(ctx, in)
		if err == nil && api != apiNone {
			res, err := Spock{}.Recover(ctx, in)
			res.Note = joinNote(fmt.Sprintf("auto: chose spock (%s API detected)", api), res.Note)
			return res, err
		}
		res, rerr := Reference{}.Recover(ctx, in)
		why := "no Spock recovery API detected"
		if err != nil {
			why = "Spock API detection failed: " + err.Error()
		}
		res.Note = joinNote("auto: chose reference ("+why+")", res.Note)
		return res, rerr
	}
	res, err := Reference{}.Recover(ctx, in)
	res.Note = joinNote("auto: chose reference (flavor "+in.Flavor+")", res.Note)
	return res, err
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}
