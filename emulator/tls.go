package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"
)

// ZohoDataCenters returns the production DC table (§1.7) for multi-DC mode.
// UK has Accounts but no documented Desk host.
func ZohoDataCenters() []DataCenter {
	return []DataCenter{
		{"us", "accounts.zoho.com", "desk.zoho.com"},
		{"eu", "accounts.zoho.eu", "desk.zoho.eu"},
		{"in", "accounts.zoho.in", "desk.zoho.in"},
		{"au", "accounts.zoho.com.au", "desk.zoho.com.au"},
		{"jp", "accounts.zoho.jp", "desk.zoho.jp"},
		{"ca", "accounts.zohocloud.ca", "desk.zohocloud.ca"},
		{"sa", "accounts.zoho.sa", "desk.zoho.sa"},
		{"sg", "accounts.zoho.sg", "desk.zoho.sg"},
		{"ae", "accounts.zoho.ae", "desk.zoho.ae"},
		{"uk", "accounts.zoho.uk", ""},
		{"cn", "accounts.zoho.com.cn", "desk.zoho.com.cn"},
	}
}

// TLSServer is a running multi-DC emulator on a loopback TLS listener.
type TLSServer struct {
	*Emulator
	// Addr is the loopback address every Zoho hostname maps to.
	Addr string
	// CACertPEM is the generated CA certificate (PEM).
	CACertPEM []byte
	// RootCAs trusts the generated CA.
	RootCAs *x509.CertPool

	srv   *http.Server
	hosts map[string]bool
}

// StartTLS starts a multi-DC emulator (opts.DataCenters defaults to
// ZohoDataCenters()) on 127.0.0.1 with a freshly generated CA and a server
// certificate for every DC host. Close stops it.
func StartTLS(opts Options) (*TLSServer, error) {
	if len(opts.DataCenters) == 0 {
		opts.DataCenters = ZohoDataCenters()
	}
	var hosts []string
	for _, d := range opts.DataCenters {
		for _, h := range []string{d.AccountsHost, d.DeskHost} {
			if h != "" {
				hosts = append(hosts, h)
			}
		}
	}
	caPEM, cert, pool, err := newCertificates(hosts)
	if err != nil {
		return nil, fmt.Errorf("start tls emulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start tls emulator: listen: %w", err)
	}
	s := &TLSServer{Emulator: New(opts), Addr: ln.Addr().String(), CACertPEM: caPEM, RootCAs: pool, hosts: map[string]bool{}}
	for _, h := range hosts {
		s.hosts[h] = true
	}
	s.srv = &http.Server{Handler: s.Emulator, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(tls.NewListener(ln, s.srv.TLSConfig)) }() // returns ErrServerClosed on Close
	return s, nil
}

// Close stops the server.
func (s *TLSServer) Close() error { return s.srv.Close() }

// DialContext dials the emulator for any known Zoho host (on any port) and
// refuses every other address, so a client using the production regions
// table reaches the emulator and nothing else.
func (s *TLSServer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("emulator dial %s: %w", addr, err)
	}
	if !s.hosts[strings.ToLower(host)] {
		return nil, fmt.Errorf("emulator dial %s: not a Zoho host served by the emulator", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, s.Addr)
}

// Client returns an http.Client that trusts the CA, dials through
// DialContext and does not follow redirects.
func (s *TLSServer) Client() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{DialContext: s.DialContext, TLSClientConfig: &tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func newCertificates(hosts []string) (caPEM []byte, leaf tls.Certificate, pool *x509.CertPool, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, leaf, nil, fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deskconn emulator CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, leaf, nil, fmt.Errorf("create CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, leaf, nil, fmt.Errorf("parse CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, leaf, nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "zoho emulator"}, DNSNames: hosts,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, leaf, nil, fmt.Errorf("create certificate: %w", err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(caCert)
	leaf = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), leaf, pool, nil
}
