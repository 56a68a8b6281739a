package connection

import (
	"context"
	"fmt"

	"github.com/deskconn/deskconn/internal/seal"
	"github.com/deskconn/deskconn/internal/store"
)

// Reseal re-seals every sealed column of every connection (all tenants)
// under kr's active key, each row under its refresh lock so that no
// concurrent refresh is lost. kr must hold the old keys too. It returns the
// number of rows rewritten; rows already under the active key are left
// alone. The Manager keeps using its own keyring: restart it with kr.
func Reseal(ctx context.Context, st store.Store, kr *seal.Keyring) (int, error) {
	conns, err := st.ListConnections(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("reseal: %w", err)
	}
	n := 0
	for _, c := range conns {
		err := st.WithRefreshLock(ctx, c.ID, func(ctx context.Context) error {
			cur, err := st.GetConnection(ctx, c.TenantID, c.ID)
			if err != nil {
				return err
			}
			changed := false
			for _, col := range []struct {
				name string
				v    *[]byte
			}{
				{colClientSecret, &cur.SealedClientSecret},
				{colRefreshToken, &cur.SealedRefreshToken},
				{colAccessToken, &cur.SealedAccessToken},
			} {
				if len(*col.v) == 0 {
					continue
				}
				out, ch, err := kr.Reseal(*col.v, seal.AAD{Table: tableConnections, RowID: cur.ID, Column: col.name})
				if err != nil {
					return fmt.Errorf("connection %s: %w", cur.ID, err)
				}
				if ch {
					*col.v, changed = out, true
				}
			}
			if !changed {
				return nil
			}
			n++
			return st.UpdateConnection(ctx, cur)
		})
		if err != nil {
			return n, fmt.Errorf("reseal: %w", err)
		}
	}
	return n, nil
}
