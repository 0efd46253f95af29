// Package test holds checks that span the repository: the dependency rules
// between top-level packages, end-to-end tests that run the real binary
// (TOKENOMICS_BIN, else one built once per run), and the READMEs run as
// documents (docs_test.go).
//
// Servers a test starts own their ports (ports_helpers_test.go): freePort
// binds a loopback port and keeps it; serve and remote receive the socket
// itself (TOKENOMICS_LISTEN_FDS) and report what they bound in their
// --ready-file, so no other program on the machine, nor another copy of
// the suite, can take a port between the test's choice and the server's
// start. redis-server, which cannot take a socket, is proven to be the
// test's own by its process id. `make test` (test/testenv.sh) installs the
// SDK clients and starts a private Redis when the tools exist.
package test
