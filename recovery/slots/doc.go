// Package slots keeps the recovery slots and connections a recovery
// needs, ahead of any failure.
//
// Contract:
//   - PrepareSlots runs once right after harness.Start, before any load:
//     on every node S, publication spockchaos_recovery FOR ALL TABLES and,
//     per peer X, an unconsumed pgoutput slot
//     recovery.RecoverySlotName(db, S, X).
//   - Keeper advances every recovery slot continuously, without
//     barriers, also during a lag: each round it reads on every member,
//     in ONE statement, its subscription origins (remote_lsn, local_lsn)
//     and writes them in a flushed floor message, so each reading is
//     durable; then slot S->X moves as recovery.NextSlotPosition decides,
//     only forward. Nothing moves for a slot when any value it needs
//     cannot be read (a member down, paused, slow). Its samples travel
//     with a recovery's input (Keeper.Samples, Survivor.Samples). Pause
//     cuts the round in progress short and runs none until resumed.
//     Report says what it did.
//   - Standby keeps a session and a replication connection open to every
//     member; Take hands a member's pair over to one recovery (which
//     checks it still answers). Each replication connection it opens
//     peeks one change of a free recovery slot, so a recovery's first
//     peek finds pgoutput loaded; each session reads the user tables'
//     column types once.
//   - ReadSamples is one keeper reading of one node, for specs and
//     checks that need a durable sample without moving a slot.
package slots
