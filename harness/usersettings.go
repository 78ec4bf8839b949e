package harness

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// User settings are server settings (GUCs) the user asks for on top of the
// flavor's own (`--set NAME=VALUE`): passed with -c to every node's server
// at start, exactly as the flavor's settings are (nodeRequest).

// gucNameRE is a PostgreSQL setting name: identifier words joined by dots
// (work_mem, spock.exception_behaviour).
var gucNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// ParseSetting parses one NAME=VALUE. The name is a setting name
// (identifier characters and dots) and is returned in lower case, as the
// server folds it; the value is what follows the first '=', not empty.
func ParseSetting(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	switch {
	case !ok:
		return "", "", fmt.Errorf("setting %q: want NAME=VALUE", s)
	case !gucNameRE.MatchString(name):
		return "", "", fmt.Errorf("setting %q: %q is not a server setting name (letters, digits, _ and dots)", s, name)
	case value == "":
		return "", "", fmt.Errorf("setting %q: no value after =", s)
	case strings.ContainsAny(value, "\x00\n\r"):
		return "", "", fmt.Errorf("setting %q: the value holds a control character", s)
	}
	return strings.ToLower(name), value, nil
}

// ParseSettings parses repeated NAME=VALUE arguments into a map; a name
// given twice with different values is refused. Nil for none.
func ParseSettings(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, a := range args {
		name, value, err := ParseSetting(a)
		if err != nil {
			return nil, err
		}
		if old, dup := out[name]; dup && old != value {
			return nil, fmt.Errorf("setting %s given twice (%s and %s)", name, old, value)
		}
		out[name] = value
	}
	return out, nil
}

// flavorPrefixes are the setting prefixes (before the first dot) each
// flavor's server knows besides plain PostgreSQL settings: another
// extension's settings (spock.* on pglogical) are unknown there.
var flavorPrefixes = map[string]string{"pglogical": "pglogical", "spock": "spock"}

// FlavorAcceptsSetting says whether a server of flavor knows the setting
// name: plain PostgreSQL settings (no dot) everywhere, a dotted one only
// with the flavor's own prefix.
func FlavorAcceptsSetting(flavor, name string) error {
	prefix, _, dotted := strings.Cut(name, ".")
	if !dotted {
		return nil
	}
	own, ok := flavorPrefixes[flavor]
	if ok && prefix == own {
		return nil
	}
	if !ok {
		return fmt.Errorf("setting %s: flavor %s takes plain PostgreSQL settings only", name, flavor)
	}
	return fmt.Errorf("setting %s: flavor %s knows %s.* and plain PostgreSQL settings only, not %s.*", name, flavor, own, prefix)
}

// CheckSettings refuses user settings a cluster of flavor with n nodes
// cannot start with: one the flavor does not know (FlavorAcceptsSetting),
// one the harness passes itself with another value (wal_level,
// shared_preload_libraries, ...: equal is fine), one the harness sets at
// run time (a flavor's ListSettings). Names are checked in sorted order,
// so the error is the same every time.
func CheckSettings(f Flavor, n int, user map[string]string) error {
	own := f.ServerSettings(n)
	var runTime []ListSetting
	if ls, ok := f.(listSetter); ok {
		runTime = ls.ListSettings()
	}
	for _, name := range SortedNames(user) {
		if err := FlavorAcceptsSetting(f.Name(), name); err != nil {
			return err
		}
		if v, ok := own[name]; ok && v != user[name] {
			return fmt.Errorf("setting %s=%s: the harness needs %s=%s on flavor %s", name, user[name], name, v, f.Name())
		}
		for _, l := range runTime {
			if l.Name == name {
				return fmt.Errorf("setting %s: the harness sets it at run time on flavor %s (to hold %s)", name, f.Name(), strings.Join(l.Items, ", "))
			}
		}
	}
	return nil
}

// MergeSettings is the flavor's settings with the user's added (CheckSettings
// has made sure they do not disagree).
func MergeSettings(own, user map[string]string) map[string]string {
	out := make(map[string]string, len(own)+len(user))
	for k, v := range own {
		out[k] = v
	}
	for k, v := range user {
		out[k] = v
	}
	return out
}

// SortedNames returns the names of settings, sorted.
func SortedNames(settings map[string]string) []string {
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// FormatSettings is settings as NAME=VALUE words, sorted by name (for
// logs, reports and cell keys).
func FormatSettings(settings map[string]string) []string {
	out := make([]string, 0, len(settings))
	for _, k := range SortedNames(settings) {
		out = append(out, k+"="+settings[k])
	}
	return out
}

// checkUserSettings makes sure the server of n knows every user setting
// once it accepts connections. An unknown plain setting stops the server
// at start, but one with a dot is kept as a placeholder that nothing reads
// (Spock 6.0 keeps spock.nonsense=1 and starts), or dropped with a warning
// under a prefix a library reserved: either way it would pass unseen, a
// typo (spock.exception_behavior) silently running the default. A real
// setting is in pg_settings; a placeholder is not. The error names the node
// and the setting, with the server log's line about it when there is one.
func checkUserSettings(ctx context.Context, c *Cluster, n *Node, user map[string]string) error {
	if len(user) == 0 {
		return nil
	}
	conn, err := n.Connect(ctx)
	if err != nil {
		return fmt.Errorf("check settings on %s: %w", n.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, name := range SortedNames(user) {
		var known bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = $1)", name).Scan(&known); err != nil {
			return fmt.Errorf("check setting %s on %s: %w", name, n.Name, err)
		}
		if !known {
			return fmt.Errorf("node %s: the server does not know setting %s=%s (not in pg_settings: a misspelt name, or one of another version)%s",
				n.Name, name, user[name], logLineAbout(ctx, c, n, name))
		}
	}
	return nil
}

// ShowSettings is what the server of n says each named setting is
// (current_setting, as SHOW gives it) in a new session.
func ShowSettings(ctx context.Context, n *Node, names []string) (map[string]string, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("read settings on %s: %w", n.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	out := make(map[string]string, len(names))
	for _, name := range names {
		var v *string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1, true)", name).Scan(&v); err != nil {
			return nil, fmt.Errorf("read setting %s on %s: %w", name, n.Name, err)
		}
		if v != nil {
			out[name] = *v
		}
	}
	return out, nil
}

// logLineAbout is ": <the last server log line of n that names setting>",
// or "" when there is none (or the log cannot be read).
func logLineAbout(ctx context.Context, c *Cluster, n *Node, name string) string {
	log, err := c.ServerLog(ctx, n)
	if err != nil {
		return ""
	}
	if line := SettingLogLine(string(log), name); line != "" {
		return " (server log: " + line + ")"
	}
	return ""
}

// SettingLogLine is the last line of a server log that names the setting
// (quoted, as the server quotes parameter names in its messages: FATAL:
// invalid value for parameter "work_mem": "lots"), or "".
func SettingLogLine(log, name string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	quoted := `"` + name + `"`
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(lines[i]), quoted) {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}

// lastFatal is the last FATAL line of a server log, or "".
func lastFatal(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "FATAL:") {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}

// LogTail is the last n non-empty lines of a server log joined by " | ",
// or "" when it has none.
func LogTail(log string, n int) string {
	var tail []string
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0 && len(tail) < n; i-- {
		if line := strings.TrimSpace(lines[i]); line != "" {
			tail = append([]string{line}, tail...)
		}
	}
	return strings.Join(tail, " | ")
}
