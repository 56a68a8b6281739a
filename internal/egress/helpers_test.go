package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeResolver answers from a table and records every lookup. A host with
// several answers gets them in turn (the last one repeats), which scripts
// DNS rebinding. Unknown hosts fail as NXDOMAIN would.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	calls   map[string]int
	lookups []string
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][][]netip.Addr{}, calls: map[string]int{}}
}

// set scripts host's answers: each argument is one answer, a comma-separated
// list of addresses.
func (r *fakeResolver) set(host string, answers ...[]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var seq [][]netip.Addr
	for _, a := range answers {
		var addrs []netip.Addr
		for _, s := range a {
			addrs = append(addrs, netip.MustParseAddr(s))
		}
		seq = append(seq, addrs)
	}
	r.answers[host] = seq
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, host)
	seq, ok := r.answers[host]
	if !ok || network != "ip" {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(r.calls[host], len(seq)-1)
	r.calls[host]++
	return seq[i], nil
}

func (r *fakeResolver) lookupList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// fakeDialer records every dial attempt. It is the test's "internet": an
// address in routes (a public "ip:port") is served by a loopback listener;
// a loopback address is dialled as is; anything else is refused WITHOUT
// touching the network, so no test ever sends a packet off the machine.
type fakeDialer struct {
	mu     sync.Mutex
	routes map[string]string
	dials  []string
}

func newFakeDialer() *fakeDialer { return &fakeDialer{routes: map[string]string{}} }

// route makes publicAddr ("93.184.216.34:80") reach the loopback server srv.
func (d *fakeDialer) route(publicAddr string, srv *httptest.Server) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[publicAddr] = srv.Listener.Addr().String()
}

func (d *fakeDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dials = append(d.dials, address)
	target, ok := d.routes[address]
	d.mu.Unlock()
	if !ok {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("test dialer: refusing to dial non-loopback %s", address)
		}
		target = address
	}
	if ap := netip.MustParseAddrPort(target); !ap.Addr().IsLoopback() {
		panic("test route to a non-loopback address: " + target)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, target)
}

func (d *fakeDialer) dialList() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dials...)
}

// canary is a loopback server that no denied fetch may reach: it counts
// TCP connections, not just requests.
type canary struct {
	srv   *httptest.Server
	conns atomic.Int64
	port  string
}

func newCanary(t *testing.T) *canary {
	t.Helper()
	c := &canary{}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "canary reached")
	}))
	c.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.conns.Add(1)
		}
	}
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	_, c.port, _ = net.SplitHostPort(c.srv.Listener.Addr().String())
	return c
}

// testNet bundles the fakes with a fetcher that uses them.
type testNet struct {
	res    *fakeResolver
	dialer *fakeDialer
	canary *canary
}

func newTestNet(t *testing.T) *testNet {
	return &testNet{res: newFakeResolver(), dialer: newFakeDialer(), canary: newCanary(t)}
}

func (n *testNet) fetcher(cfg Config) *Fetcher {
	cfg.Resolver = n.res
	cfg.Dialer = n.dialer.DialContext
	return New(cfg)
}

// serve starts a loopback server reachable as the public address
// publicIP:80, and returns it.
func (n *testNet) serve(t *testing.T, publicIP string, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	n.dialer.route(net.JoinHostPort(publicIP, "80"), srv)
	return srv
}
