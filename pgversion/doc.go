// Package pgversion knows which PostgreSQL majors spockchaos runs on and
// every behaviour that differs between them, each as a pure function of
// server_version_num (e.g. 150018 for 15.18).
//
// Contract:
//   - Num parses a server_version as the server reports it at connection
//     start ("15.18 (Debian 15.18-0+deb12u1)", "18devel", "18beta1") into
//     the server_version_num the server would give: major*10000 + minor.
//     Of reads it from an open connection without a round trip (the
//     server_version parameter status every server sends); 0 means unknown.
//   - Supported refuses a major spockchaos was not built for, in one line
//     (15 to 18; 16 has no Debian package but a private build of it works).
//   - One function per difference, true when the server has the feature;
//     callers decide with it and nothing else compares version numbers.
//     The cost of doing without a feature is said at the function.
//
// It opens no connection and runs no query.
package pgversion
