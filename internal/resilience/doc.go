// Package resilience holds deskconn's resilience tests: the fault matrix
// (every action under every emulator fault ends in success or a typed
// *deskconn.Error within its deadline, with no panic and no leaked
// goroutine) and the idempotency soak (thousands of retried create_ticket
// calls under random faults never create a duplicate ticket or lose one).
//
// The tests run the real stack in process: the emulator on a loopback
// httptest server, the SQLite store in a temporary directory, the
// connection manager (connected through the real OAuth flow) and the action
// registry with every action of internal/deskactions. They send traffic to
// 127.0.0.1 only. The package has no non-test code besides this comment.
package resilience
