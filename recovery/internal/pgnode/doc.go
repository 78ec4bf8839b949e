// Package pgnode is what recovery reads and runs on one node, in either
// flavor's catalog: subscriptions and their replication origins, an
// origin's progress and its hold, Spock's node ids and the origins its
// apply stamps, replication connections and the harness's own SQL
// fragments. It decides nothing: the strategies and services do.
package pgnode
