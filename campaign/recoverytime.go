package campaign

import (
	"slices"
	"sort"
)

// RecoveryTime is the recovery time (kill to every survivor level for the
// failed node, record.RecoveryTime) of one scenario on one target over
// the campaign's done cells: every failed node of every cell counts once.
type RecoveryTime struct {
	Scenario string  `json:"scenario"`
	Target   string  `json:"target"`
	Count    int     `json:"count"`
	Median   float64 `json:"median_s"`
	Max      float64 `json:"max_s"`
	// NeverLevel counts failed nodes whose survivors were never level
	// (a recovery that failed, or recovery none).
	NeverLevel int `json:"never_level,omitempty"`
}

// RecoveryTimes gives the median and maximum recovery time per scenario
// and target, for the scenarios that killed a node, sorted.
func (c *Campaign) RecoveryTimes() []RecoveryTime {
	type key struct{ scenario, target string }
	secs := map[key][]float64{}
	never := map[key]int{}
	for _, r := range c.Cells {
		if !r.Done() || r.Recovery == nil {
			continue
		}
		k := key{r.Scenario, r.Target.Name()}
		secs[k] = append(secs[k], r.Recovery.Seconds...)
		never[k] += r.Recovery.NeverLevel
	}
	var out []RecoveryTime
	for k, s := range secs {
		if len(s) == 0 && never[k] == 0 {
			continue
		}
		rt := RecoveryTime{Scenario: k.scenario, Target: k.target, Count: len(s), NeverLevel: never[k]}
		if len(s) > 0 {
			slices.Sort(s)
			rt.Max = s[len(s)-1]
			rt.Median = s[len(s)/2]
			if len(s)%2 == 0 {
				rt.Median = (s[len(s)/2-1] + s[len(s)/2]) / 2
			}
		}
		out = append(out, rt)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Scenario != out[j].Scenario {
			return out[i].Scenario < out[j].Scenario
		}
		return out[i].Target < out[j].Target
	})
	return out
}
