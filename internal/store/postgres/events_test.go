package postgres

import (
	"testing"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/postgres/pgtest"
	"github.com/deskconn/deskconn/internal/store/storetest"
)

func TestEventsAcceptance(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_test")
	storetest.RunEvents(t, func(t *testing.T) store.Store { return openDSN(t, dsn) })
}

func TestMCPAuthAcceptance(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t, "deskconn_test")
	storetest.RunMCPAuth(t, func(t *testing.T) store.Store { return openDSN(t, dsn) })
}
