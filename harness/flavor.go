package harness

import (
	"fmt"
	"sort"
	"strings"
)

// Statement is one SQL statement with its arguments. Flavors return
// statements instead of executing them, so the SQL each flavor issues is
// unit-tested without a server.
type Statement struct {
	SQL  string
	Args []any
}

// Peer is what a flavor needs to know about a node: its name and the DSN
// under which the other nodes reach it on the run's network.
type Peer struct {
	Name string
	DSN  string
}

// SubscriptionStatus is one row of a flavor's subscription status function.
type SubscriptionStatus struct {
	Name     string
	Status   string
	Provider string
}

// Flavor sets up and inspects one kind of multi-master replication.
// Methods are pure: the harness runs what they return on the right node.
type Flavor interface {
	// Name is the flavor's CLI name.
	Name() string
	// DefaultImage is the image used when the user names none; "" means
	// the user must name one (--image).
	DefaultImage() string
	// ServerSettings are the postgresql.conf settings for a node of an
	// n-node cluster, passed as -c flags at server start.
	ServerSettings(n int) map[string]string
	// CreateNode makes self a replication node (extension, node record).
	CreateNode(self Peer) []Statement
	// ReplicateTables puts every table of the given schemas into the
	// default replication set. It must be idempotent.
	ReplicateTables(schemas []string) []Statement
	// Subscribe makes subscriber receive provider's own changes only
	// (forward_origins '{}'), without copying structure or data.
	Subscribe(subscriber, provider Peer) []Statement
	// SubscriptionStatusQuery returns rows (name, status, provider).
	SubscriptionStatusQuery() string
	// SubscriptionName is the name of subscriber's subscription to provider.
	SubscriptionName(subscriber, provider string) string
	// DisableSubscription stops a subscription and its worker now.
	DisableSubscription(name string) []Statement
	// EnableSubscription enables a subscription. On one already enabled
	// it wakes the flavor's manager, which starts a missing worker at once
	// instead of after its retry delay.
	EnableSubscription(name string) []Statement
	// SlotNameQuery, run on the subscriber with $1 a subscription name,
	// returns the name of the slot its provider keeps for it. The
	// walsender serving the subscription is that slot's active_pid on the
	// provider: found so for every flavor, since the application_name a
	// flavor's apply connection gives itself differs (pglogical: the
	// subscription name; Spock: the slot name).
	SlotNameQuery() string
	// ApplyWorkerQuery, run on the subscriber with $1 a subscription
	// name, returns the pid of that subscription's apply worker (no row
	// when none runs).
	ApplyWorkerQuery() string
	// ReplicateDDL is what runs one DDL statement (schema-qualified) on a
	// node so that every peer runs it too, at the same point of that
	// node's stream, and a table it creates joins the 'default'
	// replication set on every node (ddl.go).
	ReplicateDDL(sql string) []Statement
}

// Down is the status of an enabled subscription with no worker running.
const Down = "down"

// Replicating is the status every flavor reports for a working subscription.
const Replicating = "replicating"

var flavors = map[string]Flavor{}

func registerFlavor(f Flavor) { flavors[f.Name()] = f }

// FlavorNames lists the known flavors, sorted.
func FlavorNames() []string {
	names := make([]string, 0, len(flavors))
	for n := range flavors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupFlavor returns the flavor called name.
func LookupFlavor(name string) (Flavor, error) {
	f, ok := flavors[name]
	if !ok {
		return nil, fmt.Errorf("unknown flavor %q (known: %s)", name, strings.Join(FlavorNames(), ", "))
	}
	return f, nil
}

// commonSettings are shared by every flavor; sizing grows with n (one
// subscription per peer, one recovery slot per peer, headroom for clones).
// listen_addresses is passed because an image's entrypoint need not set
// it (pgEdge's does not; PostgreSQL's default is localhost only).
func commonSettings(n int) map[string]string {
	return map[string]string{
		"listen_addresses":       "*",
		"wal_level":              "logical",
		"track_commit_timestamp": "on",
		"fsync":                  "on",
		"max_replication_slots":  fmt.Sprint(4*n + 10),
		"max_wal_senders":        fmt.Sprint(2*n + 10),
		"max_worker_processes":   fmt.Sprint(2*n + 10),
		"max_connections":        "200",
	}
}
