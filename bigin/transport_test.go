package bigin

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransportKeepsConnectionsOfABurst: after a burst of concurrent calls,
// a second burst as large reuses the connections of the first (net/http's
// default transport keeps two, and opens the rest again).
func TestTransportKeepsConnectionsOfABurst(t *testing.T) {
	t.Parallel()
	const burst = 32
	// Every call of a burst waits until the whole burst is in flight.
	var mu sync.Mutex
	arrived, release := 0, make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ch := release
		if arrived++; arrived == burst {
			close(release)
			arrived, release = 0, make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done(): // a call of the burst never came; the test fails on the client's side
			return
		}
		io.WriteString(w, `{"users":[]}`)
	}))
	var opened atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	hc := &http.Client{Transport: NewTransport(), Timeout: time.Minute}
	defer hc.CloseIdleConnections()
	run := func() {
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				resp, err := hc.Get(srv.URL)
				if !assert.NoError(t, err) {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	run()
	require.EqualValues(t, burst, opened.Load(), "the first burst opens a connection per call")
	run()
	assert.EqualValues(t, burst, opened.Load(), "the second burst opens none")
}
