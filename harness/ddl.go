package harness

import (
	"context"
	"fmt"
	"regexp"
)

// DDL under load (issue 27): a flavor replicates one DDL statement issued
// on one node by its own mechanism, and the harness runs what it returns
// on that node's one session, in order.
//
// Statements given here must name their tables schema-qualified:
// pglogical runs replicate_ddl_command with an empty search_path.

// createTableRE finds the table a CREATE TABLE statement creates.
var createTableRE = regexp.MustCompile(`(?is)^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z0-9_."]+)`)

// CreatedTable is the (schema-qualified, as written) table sql creates, ""
// when sql is not a CREATE TABLE.
func CreatedTable(sql string) string {
	m := createTableRE.FindStringSubmatch(sql)
	if m == nil {
		return ""
	}
	return m[1]
}

// ReplicateDDL: pglogical.replicate_ddl_command runs sql here and queues
// it (a pglogical.queue row in replication set ddl_sql, which every
// subscription of the harness carries) for each peer to run at the same
// point of this node's stream. pglogical adds no table to a replication
// set by itself, and set membership is per node: a created table is added
// to 'default' in the same command, so every node adds it where it creates
// it, in one transaction.
func (pglogical) ReplicateDDL(sql string) []Statement {
	if t := CreatedTable(sql); t != "" {
		sql += fmt.Sprintf("; SELECT pglogical.replication_set_add_table('default', %s, false)", QuoteLiteral(t))
	}
	return []Statement{{SQL: "SELECT pglogical.replicate_ddl_command($1, ARRAY['ddl_sql'])", Args: []any{sql}}}
}

// ReplicateDDL runs sql as a user does with Spock's AutoDDL on
// (docs/managing/spock_autoddl.md): spock.enable_ddl_replication on in the
// issuing session (a USERSET setting, so the harness's own DDL elsewhere
// never replicates), where Spock's utility hook queues the statement
// (a spock.queue row) for every peer. spock.include_ddl_repset, which
// makes each node add a created table to the 'default' set (tables with a
// primary key) where it creates it, is on at every node's start
// (ServerSettings): the peers' apply workers read it when they run the
// queued statement (add_ddl_to_repset in spock_apply.c).
func (spock) ReplicateDDL(sql string) []Statement {
	return []Statement{
		{SQL: "SELECT set_config('spock.enable_ddl_replication', 'on', false), set_config('spock.include_ddl_repset', 'on', false)"},
		{SQL: sql},
	}
}

// ReplicateDDL runs each of sqls, in order, on node by the flavor's DDL
// replication, in one session.
func (c *Cluster) ReplicateDDL(ctx context.Context, node string, sqls []string) error {
	n := c.Node(node)
	if n == nil {
		return fmt.Errorf("replicate DDL: no node %s", node)
	}
	conn, err := n.Connect(ctx)
	if err != nil {
		return fmt.Errorf("replicate DDL on %s: %w", node, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, sql := range sqls {
		if err := execStatements(ctx, conn, c.Flavor.ReplicateDDL(sql)); err != nil {
			return fmt.Errorf("replicate DDL on %s: %w", node, err)
		}
	}
	return nil
}
