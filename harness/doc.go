// Package harness runs a cluster of PostgreSQL nodes in containers and sets
// up their replication.
//
// Contract:
//   - Start brings up N nodes (2..9) on a private Docker network created for
//     the run, with DNS aliases n1..nN, configures the Flavor's full mesh,
//     applies an optional schema and returns only when the cluster is Ready:
//     every subscription replicating AND a barrier passed. If any step fails
//     (or ctx is cancelled) everything it created is removed before it
//     returns.
//   - Every container and network carries the label spockchaos.run=<run id>;
//     Remove, RemoveRun and Clean find them by that label alone, so cleanup
//     works from another process too. testcontainers' Ryuk reaper is disabled
//     (its image cannot be pulled here); the harness cleans up itself.
//   - A run's labels also say which process started it (Owner: host, pid
//     namespace, pid, and the process's start time, so that a reused pid is
//     not taken for it). Clean removes only runs not started detached whose
//     owner is certainly gone; a run of another host or pid namespace is
//     never judged dead. Clean(ctx, ids...) looks at the named runs only.
//   - NotifyInterrupt turns the first SIGINT/SIGTERM into a cancelled
//     context whose cause (Interrupt) names the signal; later signals are
//     acknowledged, not obeyed, while the containers are being removed.
//   - Ports are published on 127.0.0.1 only; the superuser password is random
//     per run. Every wait is bounded and says what it waited for; every error
//     names the node and the step.
//
// Bring-up decisions (pglogical): every node and table exists before any
// subscription (a failed apply worker only retries after a delay); a
// node's subscriptions are created in one transaction; pglogical's manager
// starts a node's apply workers one by one and sleeps up to 1 s after each
// waiting for it to attach, so the harness wakes it with a procsignal
// (pg_log_backend_memory_contexts: one memory-context dump per wake in the
// server log); the extension is created when the image is built. Waiting
// for replication re-enables a subscription that stays down for 2 s (after
// a provider restart the manager may otherwise sleep for minutes).
//
// Bring-up decisions (spock, checked on real Spock 5.0.11 and 6.0 builds on
// PostgreSQL 17.11): settings only some server versions know are not
// passed with -c (an unknown one stops the server) but set at run time
// when the server has them (ListSetting: output_plugin_libraries gets
// spock_output, by a top-level ALTER SYSTEM and a reload, awaited in a
// new session; ALTER SYSTEM cannot run inside a DO block). A subscription
// that never replicates is reported with the last ERROR/FATAL line of
// each end's server log.
//
// DDL (ddl.go): Cluster.ReplicateDDL runs statements on one node by the
// flavor's mechanism: pglogical's replicate_ddl_command (a created table
// added to 'default' in the same command, so on every node); Spock's
// AutoDDL, switched on in the issuing session only, with
// spock.include_ddl_repset on at every node's start so that each peer
// adds a created table to a set.
//
// User settings (Config.Settings, `--set NAME=VALUE`) are passed with -c
// next to the flavor's own. CheckSettings (pure) refuses, before anything
// starts, a setting the flavor's server does not know (FlavorAcceptsSetting:
// plain PostgreSQL settings, and only the flavor's own prefix, spock.* or
// pglogical.*) and one the harness passes itself with another value or
// sets at run time. A server that exits at start on a setting is reported
// at once, naming the node, the setting and the server log's line about
// it; one that drops a setting under a reserved prefix (a warning, not an
// exit) is caught by reading every user setting back once it accepts
// connections.
//
// Link proxies (Config.LinkProxies): every subscription's provider DSN
// points at a Toxiproxy proxy of its own (one per ordered pair of nodes),
// so that a fault can slow, cap or reset one link in one direction. The
// proxies run in this process, toxiproxy's Go server package, listening
// on the run network's gateway address, forwarding to the provider's
// address on the run network. Why here and not as a sidecar binary in
// each node: no binary to build and copy in, no process to start again
// after every node restart (a proxy outlives its node, so a restarted
// node is only retargeted), no extra port per node, and toxics change by
// a function call, not HTTP; it costs that the proxies live as long as
// this process (a cluster kept with --keep is first switched to direct
// DSNs, BypassLinkProxies, through the flavor's node interfaces) and that
// containers must reach the gateway: Start
// proves it from every subscriber's network namespace (pg_isready through
// each proxy, from a helper container)
// and names the host firewall when it fails. Checked here: a container
// reached a listener on its network's gateway at once.
//
// Helper containers (RunTool, sidecar.go): nothing the harness or a fault
// does needs a tool, a user or a capability inside a node. Commands (ip,
// nft, pg_isready, kill, cat) run in a short-lived container of the tools
// image (ToolsImage, the node image) that joins the node's network and
// pid namespaces, as root with NET_ADMIN and SYS_PTRACE, labelled with
// the run's labels (LabelSidecar instead of LabelNode), bounded by
// SidecarTimeout and removed on every path. Settings the flavor needs,
// listen_addresses included, are passed at start; no path, PGDATA or user
// of the image is assumed.
//
// Clock skew (Config.ClockSkew): libfaketime, read from the node image
// (the recipe's of every major has it) or else the tools image, is copied into every node before it starts (FakeTimeLibrary) and
// preloaded by every server process; it reads the clock offset from
// FakeTimeFile, at most once a second; SetClockOffset rewrites that file
// from a helper through /proc/1/root. An image whose glibc is too old for
// the library, or that has none, is refused before anything starts
// (ClockSkewSupport). Only runs that ask for it pay the preload.
//
// Membership (join.go, leave.go): AddNode starts n<N+1> like the others
// and joins it under load with Spock's zero-downtime add-node sequence
// (slots on the other peers first, the source caught up past them and
// held while the new node copies from it, the new node's origins set to
// the source's progress at the copy); RemoveNode fences, drains and
// unsubscribes a node and drops it; Leftovers names what a removed node
// left on the others. A cluster with link proxies cannot grow.
//
// CaptureNodeState reads a node's replication slots and origins for the
// run record (record.NodeState), each query under a statement timeout.
//
// It knows nothing of workloads, checkers or reports.
package harness
