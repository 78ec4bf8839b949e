package verify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Row origins are reported as node names. What a row's commit-timestamp
// origin (pg_xact_commit_timestamp_origin) holds differs by flavor:
//   - pglogical stamps the subscription's named origin
//     (pgl_<db>_<provider>_<sub>): its provider is the origin node;
//   - Spock stamps the ORIGIN NODE's Spock node_id (e.g. 9057 for n3),
//     which has no pg_replication_origin row, so the raw text is
//     "origin 9057"; a reference recovery's replay into a Spock node
//     stamps the named origin spk_<db>_<provider>_<sub>.
//
// originNamesSQL maps both to node names from the replication catalogs
// present on the node; a name it cannot map is shown as it is.
const originNamesSQL = `SELECT k, v FROM (
  SELECT s.sub_slot_name::text AS k, n.node_name::text AS v FROM %[1]s.subscription s JOIN %[1]s.node n ON n.node_id = s.sub_origin
  UNION ALL
  SELECT 'origin ' || n.node_id::text, n.node_name::text FROM %[1]s.node n
) m`

// originNames reads the node's origin-to-node-name map (empty when no
// replication extension is installed).
func originNames(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
	out := map[string]string{}
	for _, schema := range []string{"spock", "pglogical"} {
		var present bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL", schema+".node", schema+".subscription").Scan(&present); err != nil {
			return nil, fmt.Errorf("look for %s catalogs: %w", schema, err)
		}
		if !present {
			continue
		}
		rows, err := conn.Query(ctx, fmt.Sprintf(originNamesSQL, pgx.Identifier{schema}.Sanitize()))
		if err != nil {
			return nil, fmt.Errorf("read %s origin names: %w", schema, err)
		}
		var k, v string
		if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { out[k] = v; return nil }); err != nil {
			return nil, fmt.Errorf("read %s origin names: %w", schema, err)
		}
	}
	return out, nil
}

// originDisplay is how a row's origin is shown: the node name when the
// map knows it, else the raw text ("local", a named origin, "origin N").
func (s *snapshot) originDisplay(raw string) string {
	if name, ok := s.origins[raw]; ok {
		return name
	}
	return raw
}
