package fault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// Markers are rows "fault-<kind>-<hex>" of the harness's replicated
// spockchaos.barrier: no user table is touched.

// probeTimeout bounds one probe of a node (connect + one query).
const probeTimeout = 2 * time.Second

// probe connects to n from the host and runs SELECT 1 within timeout.
func probe(ctx context.Context, n *harness.Node, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, n.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// refused reports whether err says that nothing serves the node's port:
// the connection was refused or closed at once, not merely slow.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// timedOut reports whether err is a deadline passing, not a refusal.
func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// newToken names one marker row; unique per check.
func newToken(kind string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "fault-" + kind + "-" + hex.EncodeToString(b)
}

// writeMarker inserts a row into the harness's replicated barrier table on n.
func writeMarker(ctx context.Context, n *harness.Node, token string) error {
	if err := execOne(ctx, n, 10*time.Second, "INSERT INTO spockchaos.barrier (token, node) VALUES ($1, $2)", token, n.Name); err != nil {
		return fmt.Errorf("write marker %s on %s: %w", token, n.Name, err)
	}
	return nil
}

// markerSeen reports whether reader has the marker token written on writer.
func markerSeen(ctx context.Context, reader *harness.Node, token, writer string) (bool, error) {
	var seen bool
	err := queryRow(ctx, reader, 5*time.Second, "SELECT EXISTS (SELECT 1 FROM spockchaos.barrier WHERE token = $1 AND node = $2)", []any{token, writer}, &seen)
	if err != nil {
		return false, fmt.Errorf("read marker %s on %s: %w", token, reader.Name, err)
	}
	return seen, nil
}

// markerAbsentFor checks, every 200ms for window, that none of readers has
// writer's marker token; it fails as soon as one has.
func markerAbsentFor(ctx context.Context, readers []*harness.Node, token, writer string, window time.Duration) error {
	deadline := time.Now().Add(window)
	for {
		for _, r := range readers {
			seen, err := markerSeen(ctx, r, token, writer)
			if err != nil {
				return err
			}
			if seen {
				return fmt.Errorf("marker %s written on %s reached %s", token, writer, r.Name)
			}
		}
		if time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitMarker waits until every reader has writer's marker token.
func waitMarker(ctx context.Context, readers []*harness.Node, token, writer string, timeout time.Duration) error {
	what := fmt.Sprintf("marker %s of %s to reach %s", token, writer, nodeNames(readers))
	return harness.WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		var lacking []*harness.Node
		for _, r := range readers {
			seen, err := markerSeen(ctx, r, token, writer)
			if err != nil {
				return false, err.Error(), nil // a node may still be coming back
			}
			if !seen {
				lacking = append(lacking, r)
			}
		}
		return len(lacking) == 0, "lacking on " + nodeNames(lacking), nil
	})
}

func nodeNames(nodes []*harness.Node) string { return strings.Join(names(nodes), ",") }

func names(nodes []*harness.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

// splitLive splits nodes into the live ones, whose containers run
// unpaused, and the others (killed, stopped or paused).
func splitLive(ctx context.Context, nodes []*harness.Node) (live, down []*harness.Node, err error) {
	for _, n := range nodes {
		st, err := containerState(ctx, n)
		if err != nil {
			return nil, nil, err
		}
		if st.Running && !st.Paused {
			live = append(live, n)
		} else {
			down = append(down, n)
		}
	}
	return live, down, nil
}

func others(c *harness.Cluster, except ...*harness.Node) []*harness.Node {
	var out []*harness.Node
	for _, n := range c.Nodes {
		skip := false
		for _, e := range except {
			if n == e {
				skip = true
			}
		}
		if !skip {
			out = append(out, n)
		}
	}
	return out
}

// crossMarkers writes a new marker on the provider of each link and
// waits until its subscriber has it, and earlier[provider] too when set
// (a marker a check wrote before). It returns the arrival time per link
// (ms, by link name).
func crossMarkers(ctx context.Context, links []harness.Link, kind string, earlier map[string]string, timeout time.Duration) (Detail, error) {
	start := time.Now()
	arrivals := Detail{}
	for _, link := range links {
		token := newToken(kind)
		if err := writeMarker(ctx, link.Provider, token); err != nil {
			return nil, err
		}
		tokens := []string{token}
		if t := earlier[link.Provider.Name]; t != "" {
			tokens = append(tokens, t)
		}
		t0 := time.Now()
		for _, t := range tokens {
			if err := waitMarker(ctx, []*harness.Node{link.Subscriber}, t, link.Provider.Name, timeout-time.Since(start)); err != nil {
				return nil, err
			}
		}
		arrivals[harness.LinkName{Subscriber: link.Subscriber.Name, Provider: link.Provider.Name}.String()] = time.Since(t0).Milliseconds()
	}
	return arrivals, nil
}

// nodeLinks are the links between n and each of peers, both ways.
func nodeLinks(c *harness.Cluster, n *harness.Node, peers []string) []harness.Link {
	var links []harness.Link
	for _, name := range peers {
		if peer := c.Node(name); peer != nil && peer != n {
			links = append(links, harness.Link{Subscriber: n, Provider: peer}, harness.Link{Subscriber: peer, Provider: n})
		}
	}
	return links
}
