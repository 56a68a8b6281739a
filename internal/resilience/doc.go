// Package resilience holds deskconn's resilience tests: the fault matrix
// (every action under every emulator fault ends in success or a typed
// *deskconn.Error within its deadline, with no panic and no leaked
// goroutine), the idempotency soak (thousands of retried create_ticket
// calls under random faults never create a duplicate ticket or lose one),
// the crash test (`deskconn serve` killed with SIGKILL during writes and
// token refreshes, then restarted: the store is consistent and the
// connection keeps its refresh token) and the several-replicas test (three
// `deskconn serve` processes on one Postgres: one refresh per expiry,
// idempotency and the per-org concurrency limit hold across them).
//
// The matrix and the soak run the real stack in process: the emulator on a
// loopback httptest server, the SQLite store in a temporary directory, the
// connection manager (connected through the real OAuth flow) and the action
// registry with every action of internal/deskactions. The crash and
// replicas tests build ./cmd/deskconn and run it as child processes,
// pointed at the in-process emulator with --unsafe-zoho-region; the
// replicas test needs DESKCONN_TEST_POSTGRES_DSN. Everything sends traffic
// to 127.0.0.1 only. The package has no non-test code besides this
// comment.
package resilience
