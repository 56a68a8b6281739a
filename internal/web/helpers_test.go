package web_test

import (
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/apikey"
	"github.com/deskconn/deskconn/internal/demo"
	"github.com/deskconn/deskconn/internal/restapi"
	"github.com/deskconn/deskconn/internal/web"
)

// startReplica starts a second server with the console on the demo's
// store and manager, as a second replica behind a load balancer would be.
// Its clock is now's value.
func startReplica(t *testing.T, d *demo.Demo, now *atomic.Pointer[time.Time]) (*web.Console, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := restapi.New(restapi.Options{
		Manager: d.Manager, APIKeys: apikey.New(d.Store), BaseURL: base,
		Now: func() time.Time { return *now.Load() },
	})
	if err != nil {
		t.Fatal(err)
	}
	console, err := web.Mount(srv, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return console, base
}
