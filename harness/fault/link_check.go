package fault

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// The effect checks of the link faults and the marker probe they use.

// checkDelayed: every faulted link's arrival exceeds the slowest unfaulted
// one (or, with none, the slowest before the fault) by expect/2.
func (l *linkFault) checkDelayed(ctx context.Context, timeout time.Duration) (Detail, error) {
	// A backlog on an unfaulted link (a busy machine) can hide the delay
	// for one measurement: measure again, up to delayedAttempts times.
	start := time.Now()
	var err error
	for attempt := 1; ; attempt++ {
		var d Detail
		d, err = l.measureDelayed(ctx, timeout-time.Since(start))
		if err == nil {
			d["attempts"] = attempt
			return d, nil
		}
		if attempt == delayedAttempts || time.Since(start) >= timeout || ctx.Err() != nil {
			return nil, err
		}
	}
}

// delayedAttempts bounds the measurements of checkDelayed.
const delayedAttempts = 3

// measureDelayed is one measurement of checkDelayed.
func (l *linkFault) measureDelayed(ctx context.Context, timeout time.Duration) (Detail, error) {
	during, err := l.measure(ctx, timeout)
	if err != nil {
		return nil, err
	}
	var faultedMin, controlMax int64 = -1, -1
	for _, name := range l.c.Links().Names() {
		ms, ok := during[name.String()]
		if !ok {
			continue
		}
		if l.faulted(name) {
			if faultedMin < 0 || ms < faultedMin {
				faultedMin = ms
			}
		} else if ms > controlMax {
			controlMax = ms
		}
	}
	reference, against := controlMax, "the unfaulted links"
	if reference < 0 {
		reference, against = 0, "zero"
		for _, ms := range l.before {
			reference, against = max(reference, ms), "before the fault"
		}
	}
	detail := Detail{"arrival_ms_during": during, "arrival_ms_before": l.before, "expected_extra_ms": l.expect.Milliseconds(),
		"compared_with": against, "reference_ms": reference, "faulted_min_ms": faultedMin, "markers": l.markers}
	if faultedMin < 0 {
		return nil, fmt.Errorf("no faulted link of %s could be measured (its nodes are down)", l.node)
	}
	if extra := time.Duration(faultedMin-reference) * time.Millisecond; extra < l.expect/2 {
		return nil, fmt.Errorf("markers crossed the faulted links %v in %d ms at best, only %s more than %s (%d ms); want at least %s more: %v",
			linkStrings(l.links()), faultedMin, extra, against, reference, l.expect/2, during)
	}
	return detail, nil
}

// checkBlocked: markers cross every unfaulted link but no faulted one for
// the window; with replicating, the faulted subscriptions stay replicating.
func (l *linkFault) checkBlocked(ctx context.Context, timeout time.Duration) (Detail, error) {
	live, down, err := splitLive(ctx, l.c.Nodes)
	if err != nil {
		return nil, err
	}
	l.markers = map[string]string{}
	blockedAt := map[string][]*harness.Node{}
	start := time.Now()
	for _, p := range l.providers() {
		provider, err := nodeByName(l.c, p)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(live, provider) {
			continue
		}
		token := newToken(l.kind)
		if err := writeMarker(ctx, provider, token); err != nil {
			return nil, err
		}
		l.markers[p] = token
		var open []*harness.Node
		for _, r := range others(l.c, provider) {
			if !slices.Contains(live, r) {
				continue
			}
			if l.faulted(harness.LinkName{Subscriber: r.Name, Provider: p}) {
				blockedAt[p] = append(blockedAt[p], r)
			} else {
				open = append(open, r)
			}
		}
		if err := waitMarker(ctx, open, token, p, timeout); err != nil {
			return nil, fmt.Errorf("the unfaulted links of %s do not carry its changes: %w", p, err)
		}
	}
	if len(blockedAt) == 0 {
		return nil, fmt.Errorf("no faulted link of %s could be checked (its nodes are down: %s)", l.node, nodeNames(down))
	}
	deadline := time.Now().Add(l.window)
	for p, readers := range blockedAt {
		if err := markerAbsentFor(ctx, readers, l.markers[p], p, time.Until(deadline)); err != nil {
			return nil, fmt.Errorf("%s: %w", l.kind, err)
		}
	}
	statuses := Detail{}
	for p, readers := range blockedAt {
		for _, r := range readers {
			sub := l.c.Flavor.SubscriptionName(r.Name, p)
			st, err := subscriptionStatus(ctx, l.c, r, sub)
			if err != nil {
				return nil, err
			}
			statuses[sub] = st
			if l.replicating && st != harness.Replicating {
				return nil, fmt.Errorf("%s on %s is %s, not %s: the link is broken, not slow", sub, r.Name, st, harness.Replicating)
			}
		}
	}
	return Detail{"markers": l.markers, "window_ms": l.window.Milliseconds(), "subscription_status": statuses,
		"down": names(down), "checked_in_ms": time.Since(start).Milliseconds()}, nil
}

// markerArrivals writes a marker (with padKB of bulk) on writer and
// returns how long it took to appear on each of readers that is live.
func markerArrivals(ctx context.Context, writer *harness.Node, readers, live []*harness.Node, token string, padKB int, timeout time.Duration) (map[string]time.Duration, error) {
	var watch []*harness.Node
	for _, r := range readers {
		if slices.Contains(live, r) {
			watch = append(watch, r)
		}
	}
	conns := make(map[*harness.Node]pgxConn, len(watch))
	for _, r := range watch {
		conn, err := r.Connect(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		conns[r] = conn
	}
	if err := writeMarkerPad(ctx, writer, token, padKB); err != nil {
		return nil, err
	}
	start := time.Now()
	out := map[string]time.Duration{}
	what := fmt.Sprintf("marker %s of %s to reach %s", token, writer.Name, nodeNames(watch))
	err := harness.WaitFor(ctx, what, timeout, 10*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		var lacking []*harness.Node
		for _, r := range watch {
			if _, done := out[r.Name]; done {
				continue
			}
			var seen bool
			err := conns[r].QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM spockchaos.barrier WHERE token = $1 AND node = $2)", token, writer.Name).Scan(&seen)
			if err != nil {
				return false, "", fmt.Errorf("read marker %s on %s: %w", token, r.Name, err)
			}
			if seen {
				out[r.Name] = time.Since(start)
			} else {
				lacking = append(lacking, r)
			}
		}
		return len(lacking) == 0, "lacking on " + nodeNames(lacking), nil
	})
	return out, err
}

// writeMarkerPad is writeMarker with padKB KB of random hex as bulk
// (incompressible enough that the wire carries about that much).
func writeMarkerPad(ctx context.Context, n *harness.Node, token string, padKB int) error {
	if padKB <= 0 {
		return writeMarker(ctx, n, token)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := n.Connect(ctx)
	if err != nil {
		return fmt.Errorf("write marker %s: %w", token, err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `INSERT INTO spockchaos.barrier (token, node, pad)
SELECT $1, $2, string_agg(md5(random()::text), '') FROM generate_series(1, $3::int)`, token, n.Name, padKB*1024/32)
	if err != nil {
		return fmt.Errorf("write marker %s on %s: %w", token, n.Name, err)
	}
	return nil
}

// pgxConn is the part of *pgx.Conn the arrival probe uses.
type pgxConn interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Close(ctx context.Context) error
}
