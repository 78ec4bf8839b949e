package history

// Pair is one client op: its invoke and its completion.
type Pair struct {
	Invoke Op
	// Completion is the ok, fail or info record; zero when the history
	// ended before the op completed.
	Completion Op
	// Type is the op's outcome: Ok, Fail or Info. An invoke without a
	// completion counts as Info (it may or may not have happened).
	Type Type
	// Completed is false when the invoke had no completion.
	Completed bool
}

// Pairs matches every invoke of a validated history with its completion,
// in invoke order. Fault records are skipped.
func Pairs(ops []Op) []Pair {
	var pairs []Pair
	open := map[string]int{} // process -> index into pairs
	for _, op := range ops {
		switch op.Type {
		case Invoke:
			open[op.Process] = len(pairs)
			pairs = append(pairs, Pair{Invoke: op, Type: Info})
		case Ok, Fail, Info:
			i, ok := open[op.Process]
			if !ok {
				continue // Validate rejects this; Pairs stays total
			}
			delete(open, op.Process)
			pairs[i].Completion = op
			pairs[i].Type = op.Type
			pairs[i].Completed = true
		}
	}
	return pairs
}

// Faults returns the fault records of a history, in order.
func Faults(ops []Op) []Op {
	var out []Op
	for _, op := range ops {
		if op.Type == Fault {
			out = append(out, op)
		}
	}
	return out
}
