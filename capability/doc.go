// Package capability says what a node image can do before a run starts,
// so that a plan the image cannot carry out is refused in one line (or a
// campaign cell skipped) instead of ending unknown mid-run.
//
// Contract:
//   - A capability (Name) is something a plan step may need from the image
//     or its server: ClockSkew (a glibc dynamic loader to preload
//     libfaketime), SpockRecoveryAPI (--recovery spock), FlavorExtension
//     (the flavor's extension is available), SupportedMajor (PostgreSQL 15
//     to 18). Network, process, kill and pause faults need nothing inside
//     the node (they act from the host or a helper container).
//   - Have holds an Answer per capability: yes, no (with why) or unknown.
//     Refusal is a pure function: the first need whose answer is "no"
//     becomes one line naming the step, the capability and the image;
//     unknown answers pass (they are checked where they are used).
//   - FromImage answers from an image's metadata alone (its tag, PG_MAJOR,
//     PATH): the recipe's images are known entirely. Probe starts one node
//     of the image (labelled like a run, removed at the end and on error),
//     and reads version, extensions, recovery APIs (recovery/spock's
//     detection) and the server's OS user; no package is needed inside the
//     image. ClockSkewAnswer asks harness.ClockSkewSupport (the image's
//     files, no container started).
//
// It never pulls an image and changes nothing but its own probe node.
package capability
