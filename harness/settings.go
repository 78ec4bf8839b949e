package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListSetting is a list-valued server setting that a flavor needs to hold
// certain items, and that only some server versions know. Passing such a
// setting with -c at start would stop a server that does not know it, so
// the harness sets it at run time instead (see ensureListSettings).
type ListSetting struct {
	Name  string
	Items []string
}

// listSetter is a flavor with run-time list settings (spock:
// output_plugin_libraries, which PostgreSQL 17.11 has and older minors lack).
type listSetter interface {
	ListSettings() []ListSetting
}

// settingTimeout bounds the wait for a reloaded setting to reach new
// sessions.
const settingTimeout = 10 * time.Second

// ensureListSettings makes every list setting of the flavor that the
// server knows hold the flavor's items (kept with what it already holds),
// by ALTER SYSTEM and a reload, each a statement of its own: ALTER SYSTEM
// cannot run inside a function or DO block (SQLSTATE 25001, seen on
// Spock 6.0). It returns once a NEW session sees the value, i.e. the
// postmaster has reloaded and every process forked later (the walsenders
// of subscriptions created next) has it. Settings the server does not know
// are skipped, and what was done is returned for the log.
func ensureListSettings(ctx context.Context, n *Node, conn *pgx.Conn, settings []ListSetting) ([]string, error) {
	var done []string
	for _, s := range settings {
		var current *string
		err := conn.QueryRow(ctx, "SELECT setting FROM pg_settings WHERE name = $1", s.Name).Scan(&current)
		if err == pgx.ErrNoRows || (err == nil && current == nil) {
			done = append(done, s.Name+": not known by this server, left alone")
			continue
		}
		if err != nil {
			return done, fmt.Errorf("read setting %s on %s: %w", s.Name, n.Name, err)
		}
		want := mergeList(*current, s.Items)
		if want == nil {
			done = append(done, s.Name+": already holds "+strings.Join(s.Items, ", "))
			continue
		}
		quoted := make([]string, len(want))
		for i, item := range want {
			quoted[i] = QuoteLiteral(item)
		}
		// A list setting: with ALTER SYSTEM each item is quoted on its own.
		stmt := fmt.Sprintf("ALTER SYSTEM SET %s = %s", pgx.Identifier{s.Name}.Sanitize(), strings.Join(quoted, ", "))
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return done, fmt.Errorf("set %s on %s: %s: %w", s.Name, n.Name, stmt, err)
		}
		if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
			return done, fmt.Errorf("reload configuration on %s: %w", n.Name, err)
		}
		what := fmt.Sprintf("setting %s on %s to hold %s in new sessions", s.Name, n.Name, strings.Join(s.Items, ", "))
		err = WaitFor(ctx, what, settingTimeout, 20*time.Millisecond, func(ctx context.Context) (bool, string, error) {
			fresh, err := n.Connect(ctx)
			if err != nil {
				return false, err.Error(), nil
			}
			defer fresh.Close(context.WithoutCancel(ctx))
			var v string
			if err := fresh.QueryRow(ctx, "SELECT current_setting($1)", s.Name).Scan(&v); err != nil {
				return false, "", err
			}
			return mergeList(v, s.Items) == nil, "is " + v, nil
		})
		if err != nil {
			return done, err
		}
		done = append(done, stmt)
	}
	return done, nil
}

// mergeList returns current's items followed by the wanted ones it lacks,
// or nil when it holds them all already. Items compare after trimming
// blanks and quotes, as the server parses a list.
func mergeList(current string, want []string) []string {
	var have []string
	for _, item := range strings.Split(current, ",") {
		if item = strings.Trim(strings.TrimSpace(item), `"`); item != "" {
			have = append(have, item)
		}
	}
	out := slices.Clone(have)
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	if len(out) == len(have) {
		return nil
	}
	return out
}

// QuoteLiteral quotes s as an SQL string literal (for statements that
// take no parameters: ALTER SYSTEM, DO blocks).
func QuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
