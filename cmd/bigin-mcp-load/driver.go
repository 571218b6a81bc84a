package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/procstat"
)

// zohoSandbox is the fake Zoho, in the driver process, zero latency.
type zohoSandbox struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
}

func startSandbox() *zohoSandbox {
	sb := sandbox.New(sandbox.Options{Location: "us"})
	srv := httptest.NewServer(sb)
	sb.SetBaseURL(srv.URL)
	return &zohoSandbox{sb: sb, srv: srv}
}

// accessToken gets a real access token from the sandbox, as a client would.
func (z *zohoSandbox) accessToken(ctx context.Context) (string, error) {
	dcs, err := bigin.ParseDatacenters(fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q}}`, z.srv.URL, z.srv.URL))
	if err != nil {
		return "", err
	}
	c, err := bigin.NewClient(bigin.Options{Datacenters: dcs, Datacenter: "us", Credentials: bigin.Credentials{
		ClientID: z.sb.ClientID(), ClientSecret: z.sb.ClientSecret(), RefreshToken: z.sb.IssueRefreshToken()}})
	if err != nil {
		return "", err
	}
	t, err := c.Refresh(ctx)
	return t.AccessToken, err
}

// target is a server under test running in a child process.
type target struct {
	info targetInfo
	cmd  *exec.Cmd
	stop func()
}

func startTarget(ctx context.Context, env []string, args ...string) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, append([]string{targetMode}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{cmd: cmd}
	t.stop = func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.stop()
		return nil, fmt.Errorf("target did not start: %w", err)
	}
	if err := json.Unmarshal(line, &t.info); err != nil {
		t.stop()
		return nil, fmt.Errorf("target said %q: %w", line, err)
	}
	return t, nil
}

// rssKB reads a process's resident set size.
func rssKB(pid int) (int, error) { return procstat.StatusKB(pid, "VmRSS") }

type memstats struct {
	Mallocs    uint64 `json:"mallocs"`
	TotalAlloc uint64 `json:"total_alloc"`
	HeapInuse  uint64 `json:"heap_inuse"`
}

func (t *target) memstats(gc bool) (memstats, error) {
	u := t.info.Debug + "/memstats"
	if gc {
		u += "?gc=1"
	}
	resp, err := http.Get(u)
	if err != nil {
		return memstats{}, err
	}
	defer resp.Body.Close()
	var m memstats
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

// checkLoopbackURL refuses any target that is not on this machine's
// loopback: this tool never sends load elsewhere.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return fmt.Errorf("refusing %q: the load tool only targets loopback", raw)
	}
	return nil
}

// result is what one driven run measured.
type result struct {
	calls     int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
}

func (r result) rps() float64 { return float64(r.calls) / r.elapsed.Seconds() }

// percentile returns the p-th percentile (0..100) of sorted durations,
// nearest-rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// drive runs c concurrent MCP clients, each initializing once and then
// calling the tool until n calls in all are done or the duration passes.
func drive(ctx context.Context, urls []string, tool string, args map[string]any, c, n int, d time.Duration) (result, error) {
	for _, u := range urls {
		if err := checkLoopbackURL(u); err != nil {
			return result{}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c + 8, MaxConnsPerHost: 0}}
	var next atomic.Int64
	var mu sync.Mutex
	res := result{latencies: make([]time.Duration, 0, n)}
	var wg sync.WaitGroup
	var firstErr error
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := sdk.NewClient(&sdk.Implementation{Name: "bigin-mcp-load", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: urls[w%len(urls)], HTTPClient: httpClient, MaxRetries: -1}, nil)
			if err != nil {
				mu.Lock()
				res.errors++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			defer cs.Close()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t0 := time.Now()
				r, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
				lat := time.Since(t0)
				mu.Lock()
				if err != nil || r.IsError {
					res.errors++
					if firstErr == nil {
						if err == nil {
							err = fmt.Errorf("tool error: %v", r.StructuredContent)
						}
						firstErr = err
					}
				} else {
					res.calls++
					res.latencies = append(res.latencies, lat)
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	if res.calls == 0 && firstErr != nil {
		return res, firstErr
	}
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "note: %d failed calls, first: %s\n", res.errors, redact(firstErr.Error()))
	}
	return res, nil
}
