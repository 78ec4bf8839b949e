// Package strategies is the table of recovery strategies by name: it
// imports every strategy's package, which recovery itself cannot (they
// import it). Lookup("auto") is recovery.Auto over Spock's runbooks and
// the reference recovery.
package strategies

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/reference"
	"github.com/spockchaos/spockchaos/recovery/spock"
)

var strategies = map[string]recovery.Strategy{
	"reference": reference.Reference{},
	"spock":     spock.Spock{},
	"none":      recovery.None{},
	"auto":      recovery.Auto{Spock: spock.Spock{}, Reference: reference.Reference{}, Detect: detect},
}

// detect names the Spock recovery API the survivors offer ("": none).
func detect(ctx context.Context, in recovery.Input) (string, error) {
	return spock.DetectAPIOn(ctx, in)
}

// Names lists the known strategies, sorted.
func Names() []string {
	names := make([]string, 0, len(strategies))
	for n := range strategies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the strategy called name.
func Lookup(name string) (recovery.Strategy, error) {
	s, ok := strategies[name]
	if !ok {
		return nil, fmt.Errorf("unknown recovery strategy %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}
