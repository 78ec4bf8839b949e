package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spockchaos/spockchaos/workload/history"
)

// bankInit is the Value of the bank-init op.
type bankInit struct {
	AccountsPerOwner int64    `json:"accounts_per_owner"`
	InitialBalance   int64    `json:"initial_balance"`
	Owners           []string `json:"owners"`
}

// checkBank: on every survivor, every owner has accounts_per_owner
// accounts whose balances sum to accounts_per_owner * initial_balance.
func checkBank(in historyInput) CheckResult {
	var init *bankInit
	transfers := 0
	for _, op := range in.ops {
		switch op.invoke.F {
		case opTransfer:
			transfers++
		case opBankInit:
			if op.outcome != history.Ok {
				continue
			}
			var b bankInit
			if err := json.Unmarshal(op.value, &b); err != nil {
				return unknownf("bank-init op %d: %v", op.invoke.Index, err)
			}
			init = &b
		}
	}
	if init == nil {
		if transfers > 0 {
			return unknownf("%d transfer ops but no bank-init op: the initial totals are unknown", transfers)
		}
		return notApplicable("bank-init or transfer")
	}
	if init.AccountsPerOwner <= 0 || len(init.Owners) == 0 {
		return unknownf("bank-init has no accounts or owners: %+v", *init)
	}
	want := init.AccountsPerOwner * init.InitialBalance
	type wrong struct {
		Node     string `json:"node"`
		Owner    string `json:"owner"`
		Total    int64  `json:"total"`
		Accounts int64  `json:"accounts"`
	}
	var bad []wrong
	for _, n := range in.survivors {
		b := in.obs.PerNode[n].Bank
		if b == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s has no bank_accounts table", n)}
		}
		owners := slices.Sorted(maps.Keys(b.Totals))
		for _, o := range init.Owners {
			if !slices.Contains(owners, o) {
				owners = append(owners, o)
			}
		}
		for _, o := range owners {
			if !slices.Contains(init.Owners, o) || b.Totals[o] != want || b.Accounts[o] != init.AccountsPerOwner {
				bad = append(bad, wrong{Node: n, Owner: o, Total: b.Totals[o], Accounts: b.Accounts[o]})
			}
		}
	}
	details := map[string]any{"expected_total_per_owner": want, "expected_accounts_per_owner": init.AccountsPerOwner, "transfers": transfers, "wrong": bad}
	if len(bad) > 0 {
		var parts []string
		for _, w := range bad {
			parts = append(parts, fmt.Sprintf("%s owner %s: total %d in %d accounts", w.Node, w.Owner, w.Total, w.Accounts))
		}
		return CheckResult{Verdict: Fail, Details: details,
			Summary: fmt.Sprintf("expected %d in %d accounts per owner; %s", want, init.AccountsPerOwner, strings.Join(parts, "; "))}
	}
	return CheckResult{Verdict: Pass, Details: details,
		Summary: fmt.Sprintf("%d owners x %d accounts total %d each on %s after %d transfers", len(init.Owners), init.AccountsPerOwner, want, strings.Join(in.survivors, ", "), transfers)}
}

// checkHotkey: the hotkey rows are identical on every survivor.
func checkHotkey(in historyInput) CheckResult {
	updates := 0
	for _, op := range in.ops {
		if op.invoke.F == opHotUpdate {
			updates++
		}
	}
	if updates == 0 {
		return notApplicable("hot-update")
	}
	type keyDiff struct {
		K        int                   `json:"k"`
		Versions map[string]*HotkeyRow `json:"versions"`
	}
	byKey, missing := rowsByKey(in.survivors, func(n string) []HotkeyRow { return in.obs.PerNode[n].Hotkey }, func(r *HotkeyRow) int { return r.K })
	if missing != "" {
		return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s has no hotkey table", missing)}
	}
	var diffs []keyDiff
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		v := byKey[k]
		same := true
		var first *HotkeyRow
		for _, n := range in.survivors {
			switch {
			case v[n] == nil:
				same = false
			case first == nil:
				first = v[n]
			case *v[n] != *first:
				same = false
			}
		}
		if !same {
			diffs = append(diffs, keyDiff{K: k, Versions: v})
		}
	}
	if len(diffs) > 0 {
		return CheckResult{Verdict: Fail, Details: diffs,
			Summary: fmt.Sprintf("%d of %d hot keys differ among %s after %d updates", len(diffs), len(byKey), strings.Join(in.survivors, ", "), updates)}
	}
	return CheckResult{Verdict: Pass,
		Summary: fmt.Sprintf("%d hot keys identical on %s after %d updates", len(byKey), strings.Join(in.survivors, ", "), updates)}
}

// rowsByKey indexes every survivor's rows by key, then node; missing is
// the first survivor whose table was not read (nil rows), else "".
func rowsByKey[R any](survivors []string, rows func(node string) []R, key func(*R) int) (_ map[int]map[string]*R, missing string) {
	byKey := map[int]map[string]*R{}
	for _, n := range survivors {
		rs := rows(n)
		if rs == nil {
			return nil, n
		}
		for i := range rs {
			k := key(&rs[i])
			if byKey[k] == nil {
				byKey[k] = map[string]*R{}
			}
			byKey[k][n] = &rs[i]
		}
	}
	return byKey, ""
}
