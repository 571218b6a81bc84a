package apptest

import (
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// NewID returns a record ID as the Service makes them (uuid v7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// listen listens on addr again after a restart; the port was just freed,
// so a brief retry covers the kernel's release of it.
func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err, "listen again on %s", addr)
	return nil
}
