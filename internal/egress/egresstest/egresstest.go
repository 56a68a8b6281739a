// Package egresstest is a fake internet for tests of code that fetches
// user-supplied URLs through package egress, without weakening the guard.
//
// Host names given to Handle resolve to public-looking addresses that
// nothing ever dials: the fake dialer carries a connection for such an
// address to a loopback httptest server (plain HTTP on port 80, TLS on 443,
// with a certificate for the host signed by a test CA that the returned
// Config trusts). Every other dial is refused and recorded without touching
// the network. The egress guard runs unchanged, so a name mapped with
// Resolve to a private address is still refused, and the spec's sample URL
// https://example.com/files/error_screenshot.png can be served in a test.
//
//	inet := egresstest.New(t)
//	inet.Handle("example.com", handler)
//	fetcher := egress.New(inet.Config(egress.Config{MaxBytes: 1 << 20}))
package egresstest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/egress"
)

// firstAddr is where Handle's addresses start: a public block, never dialled.
var firstAddr = netip.MustParseAddr("93.184.216.1")

// Internet is a fake internet. It is safe for concurrent use.
type Internet struct {
	tb      testing.TB
	caCert  *x509.Certificate
	caKey   *ecdsa.PrivateKey
	roots   *x509.CertPool
	mu      sync.Mutex
	next    netip.Addr
	names   map[string][]netip.Addr // lower-case host → answer
	routes  map[string]string       // "ip:port" → loopback listener address
	dials   []string
	lookups []string
}

// New returns an empty Internet whose servers are closed when tb ends.
func New(tb testing.TB) *Internet {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("egresstest: generate CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "egresstest CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("egresstest: create CA: %v", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("egresstest: parse CA: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &Internet{
		tb: tb, caCert: ca, caKey: key, roots: roots, next: firstAddr,
		names: map[string][]netip.Addr{}, routes: map[string]string{},
	}
}

// Handle makes http://host/ and https://host/ (default ports) served by h.
// It returns the public-looking address host resolves to.
func (n *Internet) Handle(host string, h http.Handler) netip.Addr {
	n.tb.Helper()
	host = strings.ToLower(host)
	plain := httptest.NewServer(h)
	n.tb.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(h)
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{n.leaf(host)}}
	secure.Config.ErrorLog = log.New(quietHandshakes{}, "", 0)
	secure.StartTLS()
	n.tb.Cleanup(secure.Close)

	n.mu.Lock()
	defer n.mu.Unlock()
	addr := n.next
	n.next = n.next.Next()
	n.names[host] = []netip.Addr{addr}
	n.routes[net.JoinHostPort(addr.String(), "80")] = plain.Listener.Addr().String()
	n.routes[net.JoinHostPort(addr.String(), "443")] = secure.Listener.Addr().String()
	return addr
}

// Resolve makes host resolve to addrs (e.g. a private address, to test
// refusal). Nothing routes to them: a dial is refused and recorded.
func (n *Internet) Resolve(host string, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var answer []netip.Addr
	for _, a := range addrs {
		answer = append(answer, netip.MustParseAddr(a))
	}
	n.names[strings.ToLower(host)] = answer
}

// Config returns cfg with the Resolver, Dialer and TLSClientConfig of this
// Internet; other fields are kept.
func (n *Internet) Config(cfg egress.Config) egress.Config {
	cfg.Resolver = resolver{n}
	cfg.Dialer = n.dial
	cfg.TLSClientConfig = &tls.Config{RootCAs: n.roots}
	return cfg
}

// Dials returns every address a fetch tried to dial, in order.
func (n *Internet) Dials() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.dials...)
}

// Lookups returns every host name resolved, in order.
func (n *Internet) Lookups() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.lookups...)
}

type resolver struct{ n *Internet }

func (r resolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.n.mu.Lock()
	defer r.n.mu.Unlock()
	r.n.lookups = append(r.n.lookups, host)
	answer, ok := r.n.names[strings.ToLower(host)]
	if !ok || network != "ip" {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return append([]netip.Addr(nil), answer...), nil
}

// dial carries routed addresses to their loopback server and refuses the
// rest without any network access.
func (n *Internet) dial(ctx context.Context, network, address string) (net.Conn, error) {
	n.mu.Lock()
	n.dials = append(n.dials, address)
	target, ok := n.routes[address]
	n.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("egresstest: no server at %s (nothing outside loopback is ever dialled)", address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, target)
}

// quietHandshakes drops the server's TLS handshake complaints, which tests
// of untrusted certificates provoke on purpose, and prints the rest.
type quietHandshakes struct{}

func (quietHandshakes) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte("TLS handshake error")) {
		os.Stderr.Write(p)
	}
	return len(p), nil
}

// leaf issues a certificate for host signed by the test CA.
func (n *Internet) leaf(host string) tls.Certificate {
	n.tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		n.tb.Fatalf("egresstest: generate key: %v", err)
	}
	n.mu.Lock()
	serial := big.NewInt(int64(len(n.routes) + 2))
	n.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, n.caCert, &key.PublicKey, n.caKey)
	if err != nil {
		n.tb.Fatalf("egresstest: issue certificate for %s: %v", host, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
