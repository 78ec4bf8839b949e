package harness

import "fmt"

// joiner is what a flavor needs beyond Flavor to add a node to a running
// cluster and remove one (join.go). Both flavors have it.
type joiner interface {
	// SubscribeSync is Subscribe with the provider's data copied first
	// (synchronize_data): the new node's one sync subscription.
	SubscribeSync(subscriber, provider Peer) []Statement
	// SubscribeForJoin creates subscriber's subscription to provider
	// disabled, marked synchronized, with its replication origin and no
	// slot: the caller creates the slot on the provider (OutputPlugin),
	// sets the origin and enables it (Spock's zero-downtime add-node).
	SubscribeForJoin(subscriber, provider Peer) []Statement
	// OutputPlugin is the decoding plugin of the flavor's slots.
	OutputPlugin() string
	// DropSubscription drops a subscription (and its slot on the
	// provider when the provider answers); no error when there is none.
	DropSubscription(name string) []Statement
	// DropNode drops the node record called name; none is no error.
	DropNode(name string) []Statement
}

// subscriptionTable is the flavor's catalog of subscriptions (its schema
// is the flavor's name).
func subscriptionTable(f Flavor) string { return f.Name() + ".subscription" }

func (pglogical) OutputPlugin() string { return "pglogical_output" }

func (f pglogical) SubscribeSync(subscriber, provider Peer) []Statement {
	st := f.Subscribe(subscriber, provider)
	st[0].SQL = replaceOnce(st[0].SQL, "synchronize_data := false", "synchronize_data := true")
	return st
}

// SubscribeForJoin: pglogical has no disabled create, so the subscription
// is created and disabled in one transaction (its manager never starts a
// worker for it) and its subscription-level sync status set to ready
// ('r'), so that its worker streams from the origin's position instead
// of creating the slot anew (pglogical drops and recreates an existing
// slot while it initializes a subscription).
func (f pglogical) SubscribeForJoin(subscriber, provider Peer) []Statement {
	name := f.SubscriptionName(subscriber.Name, provider.Name)
	return append(f.Subscribe(subscriber, provider),
		Statement{SQL: "SELECT pglogical.alter_subscription_disable($1, false)", Args: []any{name}},
		Statement{SQL: `UPDATE pglogical.local_sync_status SET sync_status = 'r'
WHERE sync_subid = (SELECT sub_id FROM pglogical.subscription WHERE sub_name = $1) AND sync_relname IS NULL`, Args: []any{name}},
		Statement{SQL: `SELECT pg_replication_origin_create(sub_slot_name) FROM pglogical.subscription
WHERE sub_name = $1 AND NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = sub_slot_name)`, Args: []any{name}})
}

func (pglogical) DropSubscription(name string) []Statement {
	return []Statement{{SQL: "SELECT pglogical.drop_subscription($1, true)", Args: []any{name}}}
}

func (pglogical) DropNode(name string) []Statement {
	return []Statement{{SQL: "SELECT pglogical.drop_node($1, true)", Args: []any{name}}}
}

func (spock) OutputPlugin() string { return "spock_output" }

func (f spock) SubscribeSync(subscriber, provider Peer) []Statement {
	st := f.Subscribe(subscriber, provider)
	st[0].SQL = replaceOnce(st[0].SQL, "synchronize_data := false", "synchronize_data := true")
	return st
}

// SubscribeForJoin: spock.sub_create with enabled := false marks the
// subscription ready and creates its origin itself ("meant for
// Zero-Downtime-Add-Node", spock_functions.c); the slot is the caller's.
func (f spock) SubscribeForJoin(subscriber, provider Peer) []Statement {
	st := f.Subscribe(subscriber, provider)
	st[0].SQL = replaceOnce(st[0].SQL, "enabled := true", "enabled := false")
	return st
}

func (spock) DropSubscription(name string) []Statement {
	return []Statement{{SQL: "SELECT spock.sub_drop($1, true)", Args: []any{name}}}
}

func (spock) DropNode(name string) []Statement {
	return []Statement{{SQL: "SELECT spock.node_drop($1, true)", Args: []any{name}}}
}

// replaceOnce replaces old in s, which must hold it exactly once (a
// flavor's SQL changed under it is a bug caught by the flavor tests).
func replaceOnce(s, old, repl string) string {
	out, n := s, 0
	for i := 0; i+len(old) <= len(out); i++ {
		if out[i:i+len(old)] == old {
			n++
			out = out[:i] + repl + out[i+len(old):]
			i += len(repl) - 1
		}
	}
	if n != 1 {
		panic(fmt.Sprintf("flavor SQL holds %q %d times, want 1", old, n))
	}
	return out
}
