package harness

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
)

// PostgresPort is the server port inside every node container.
const PostgresPort = "5432/tcp"

// Node is one PostgreSQL server in its own container.
type Node struct {
	// Name is n1..nN, also the node's DNS alias on the run network.
	Name string
	// DSN reaches the node from the host (127.0.0.1 and a published port).
	DSN string
	// NetworkDSN reaches the node from the other nodes (host = Name).
	NetworkDSN string
	// DirectDSN reaches the node from the host at its address on the run
	// network, past the published port's proxy (docker-proxy copies every
	// byte: a pglogrepl stream of 10,000 transactions took 240-440 ms
	// through it, 175-192 ms direct). Empty where the host has no route to
	// the run network (Docker Desktop). The address is the one at start: a
	// restarted container may get another, so a user of it checks that it
	// reached this node.
	DirectDSN string
	// Container is the node's container; faults act on it.
	Container *testcontainers.DockerContainer
}

// Connect opens a connection to the node from the host.
func (n *Node) Connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, n.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", n.Name, err)
	}
	return conn, nil
}

// Peer is the node as its peers see it.
func (n *Node) Peer() Peer { return Peer{Name: n.Name, DSN: n.NetworkDSN} }

// nodeRequest builds the container of one node: on the run network with
// alias name, labelled, port published on 127.0.0.1 only.
func nodeRequest(runID, name, image, password string, net *testcontainers.DockerNetwork, settings map[string]string, labels map[string]string) testcontainers.GenericContainerRequest {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cmd := []string{"postgres"}
	for _, k := range keys {
		cmd = append(cmd, "-c", k+"="+settings[k])
	}
	nodeLabels := map[string]string{LabelNode: name}
	for k, v := range labels {
		nodeLabels[k] = v
	}
	return testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Name:           "spockchaos-" + runID + "-" + name,
			Image:          image,
			Hostname:       name,
			Cmd:            cmd,
			Env:            map[string]string{"POSTGRES_PASSWORD": password, "POSTGRES_USER": "postgres", "POSTGRES_DB": "postgres"},
			ExposedPorts:   []string{PostgresPort},
			Labels:         nodeLabels,
			Networks:       []string{net.Name},
			NetworkAliases: map[string][]string{net.Name: {name}},
			HostConfigModifier: func(hc *container.HostConfig) {
				port := network.MustParsePort(PostgresPort)
				hc.PortBindings = network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
				// Shared memory for PostgreSQL; docker's 64 MB default is tight.
				hc.ShmSize = 256 << 20
				// No capability: network faults run in helper containers
				// that join the node's namespaces (RunTool).
			},
		},
		Started: true,
	}
}

// DirectDSNOf is n's DirectDSN as of now (after a restart, say): its
// run-network address when the host reaches it within a moment, else "".
func DirectDSNOf(ctx context.Context, n *Node) string {
	u, err := url.Parse(n.DSN)
	if err != nil {
		return ""
	}
	password, _ := u.User.Password()
	return directDSN(ctx, n, password)
}

// directDSN is n's DirectDSN: its run-network address when the host
// reaches it within a moment, else "".
func directDSN(ctx context.Context, n *Node, password string) string {
	ip, err := NetworkIP(ctx, n)
	if err != nil {
		return ""
	}
	addr := net.JoinHostPort(ip, "5432")
	d := net.Dialer{Timeout: 300 * time.Millisecond}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return ""
	}
	c.Close()
	return hostDSN(ip, "5432", password)
}

func hostDSN(host, port, password string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", password),
		Host:     net.JoinHostPort(host, port),
		Path:     "/postgres",
		RawQuery: "sslmode=disable&connect_timeout=5",
	}
	return u.String()
}

func networkDSN(name, password string) string {
	return fmt.Sprintf("host=%s port=5432 dbname=postgres user=postgres password=%s sslmode=disable connect_timeout=5", name, password)
}

// waitAccepting polls until the node accepts a login or timeout passes.
func waitAccepting(ctx context.Context, n *Node, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for i := 0; ; i++ {
		conn, err := pgx.Connect(ctx, n.DSN)
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		last = err
		// A server that refused its settings exits at once: say so now,
		// not after the timeout (checked every second).
		if i%20 == 19 && n.Container != nil {
			if st, serr := n.Container.State(ctx); serr == nil && !st.Running && st.Status != "created" {
				return &exitedError{node: n.Name, code: st.ExitCode}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to accept connections: gave up after %s: %v", n.Name, timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exitedError is a node whose server exited before it accepted
// connections.
type exitedError struct {
	node string
	code int
}

func (e *exitedError) Error() string {
	return fmt.Sprintf("node %s: the server exited (code %d) before it accepted connections", e.node, e.code)
}

// execer is a connection or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// execStatements runs statements in order on one connection.
func execStatements(ctx context.Context, conn execer, stmts []Statement) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s.SQL, s.Args...); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s.SQL), err)
		}
	}
	return nil
}

func firstLine(sql string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(sql), "\n")
	return line
}
