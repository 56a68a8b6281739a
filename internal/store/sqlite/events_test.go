package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/deskconn/deskconn/internal/store"
	"github.com/deskconn/deskconn/internal/store/storetest"
)

func TestEventsAcceptance(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	storetest.RunEvents(t, func(t *testing.T) store.Store { return openAt(t, path) })
}

func TestMCPAuthAcceptance(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "deskconn.db")
	storetest.RunMCPAuth(t, func(t *testing.T) store.Store { return openAt(t, path) })
}
