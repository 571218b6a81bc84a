package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/internal/procstat"
)

const usersTool = "list_all_zohobigin_users"

var usersArgs = map[string]any{"limit": 100}

// benchTool is a tool the calls mode measures. The bare, floor and maps
// servers serve its equivalent: the records of the one Zoho call ours
// makes for it (read from the sandbox's log, so it is the same call),
// taken from listKey of Zoho's answer.
type benchTool struct {
	name    string
	args    map[string]any
	about   string // how the report names the call
	listKey string // the key of Zoho's answer that holds the records
}

// benchTools are the tools -tool chooses from.
var benchTools = map[string]benchTool{
	"users":   {name: usersTool, args: usersArgs, about: "(limit 100)", listKey: "users"},
	"records": {name: "list_zohobigin_records", args: map[string]any{"module": "Contacts"}, about: "(module Contacts, default fields, default limit 50)", listKey: "data"},
}

// measured is one server's row in the calls table.
type measured struct {
	kind         string
	res          result
	rssMB        float64
	allocsPerOp  float64
	kbPerOp      float64
	p50, p95, p9 time.Duration

	mallocs, bytes uint64 // summed over rounds
}

func runCalls(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("calls", flag.ContinueOnError)
	c := fs.Int("c", 32, "concurrent MCP clients")
	n := fs.Int("n", 2000, "tools/call requests per server (after warm-up)")
	rounds := fs.Int("rounds", 5, "rounds the calls are split into; each round drives every server in turn")
	nURLs := fs.Int("urls", 100, "MCP URLs minted on our server; the clients spread over them")
	d := fs.Duration("duration", 60*time.Second, "time limit per server and round")
	warm := fs.Int("warmup", 200, "warm-up calls per server, not measured")
	cpu := fs.String("cpuprofile", "", "write a CPU profile of our server during its first round to this file")
	structuredOnly := fs.Bool("structured-only", false, "ours leaves out the text block for clients on protocol 2026-07-28 (as the load's go-sdk clients are); off by default, as in the server")
	toolName := fs.String("tool", "users", "the tool called: users (list_all_zohobigin_users, limit 100) or records (list_zohobigin_records, 50 contacts with the default fields)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	spec, ok := benchTools[*toolName]
	if !ok {
		return fmt.Errorf("-tool %q: want users or records", *toolName)
	}
	if err := checkBounds(*c, 1, 1024, "-c"); err != nil {
		return err
	}
	if err := checkBounds(*n, 1, 1_000_000, "-n"); err != nil {
		return err
	}
	if err := checkBounds(*rounds, 1, min(100, *n), "-rounds"); err != nil {
		return err
	}
	if err := checkBounds(*nURLs, 1, 100_000, "-urls"); err != nil {
		return err
	}
	z := startSandbox()
	defer z.srv.Close()
	access, err := z.accessToken(ctx)
	if err != nil {
		return err
	}
	// All three servers run for the whole measurement, and the calls are
	// interleaved in rounds, so that a change in the machine's load
	// during the run (other tenants, CPU frequency) falls on all of them
	// alike instead of on whichever ran last.
	kinds := []string{kindBare, kindFloor, kindMaps, kindOurs}
	const bareAt, floorAt, mapsAt, oursAt = 0, 1, 2, 3
	targets := make([]*target, len(kinds))
	// Ours starts first: the others serve what its one Zoho call answers.
	var zohoCall string
	for _, i := range []int{oursAt, bareAt, floorAt, mapsAt} {
		kind := kinds[i]
		dir, err := os.MkdirTemp("", "bigin-mcp-load-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		env := []string{accessTokenEnv + "=" + access}
		args := []string{"-kind", kind, "-zoho", z.srv.URL, "-data", dir, "-urls", fmt.Sprint(*nURLs), fmt.Sprintf("-structured-only=%v", *structuredOnly)}
		if kind == kindOurs {
			env = []string{refreshTokensEnv + "=" + z.sb.IssueRefreshToken()}
		} else {
			args = append(args, "-tool-name", spec.name, "-zoho-call", zohoCall, "-list-key", spec.listKey)
		}
		t, err := startTarget(ctx, env, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		defer t.stop()
		targets[i] = t
		if *warm > 0 {
			if _, err := drive(ctx, t.info.URLs, spec.name, spec.args, *c, *warm, *d); err != nil {
				return fmt.Errorf("%s warm-up: %w", kind, err)
			}
		}
		if kind == kindOurs {
			if zohoCall, err = observeZohoCall(ctx, z, t, spec, *d); err != nil {
				return err
			}
		}
	}
	payload, err := samePayload(ctx, targets[bareAt], targets[oursAt], spec)
	if err != nil {
		return err
	}
	rows := make([]measured, len(kinds))
	for i := range rows {
		rows[i].kind = kinds[i]
	}
	for r := 0; r < *rounds; r++ {
		per := *n / *rounds
		if r < *n%*rounds {
			per++
		}
		for k := range kinds {
			i := (k + r) % len(kinds) // rotate who goes first
			var profiled chan error
			if kinds[i] == kindOurs && *cpu != "" && r == 0 {
				profiled = make(chan error, 1)
				go func() { profiled <- targets[i].saveProfile("profile?seconds=5", *cpu) }()
			}
			err := rows[i].add(ctx, targets[i], spec, *c, per, *d)
			if profiled != nil && err == nil {
				err = <-profiled
			}
			if err != nil {
				return fmt.Errorf("%s: %w", kinds[i], err)
			}
		}
	}
	for i := range rows {
		if err := rows[i].finish(targets[i]); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "tools/call %s %s, C=%d, %d calls per server in %d interleaved rounds, loopback, GOMAXPROCS=%d\n", spec.name, spec.about, *c, *n, *rounds, gomaxprocs())
	fmt.Fprintf(out, "one Zoho call per tools/call: GET %s\n", zohoCall)
	fmt.Fprintf(out, "ours serves %d minted URLs; bare and ours return the same %d records (%d bytes of JSON); structured-only %v\n\n", len(targets[oursAt].info.URLs), payload.records, payload.bytes, *structuredOnly)
	fmt.Fprintln(tw, "server\tcalls\terrors\treq/s\tp50\tp95\tp99\tRSS MB\tallocs/call\tKB/call\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%.1f\t%.0f\t%.1f\t\n", r.kind, r.res.calls, r.res.errors, r.res.rps(),
			ms(r.p50), ms(r.p95), ms(r.p9), r.rssMB, r.allocsPerOp, r.kbPerOp)
	}
	tw.Flush()
	bare, floor, maps, ours := rows[bareAt], rows[floorAt], rows[mapsAt], rows[oursAt]
	fmt.Fprintf(out, "\nthroughput ours/bare = %.2f (target >= 1.0), ours/maps = %.2f (target >= 2.0), ours/floor = %.2f\n",
		ours.res.rps()/bare.res.rps(), ours.res.rps()/maps.res.rps(), ours.res.rps()/floor.res.rps())
	fmt.Fprintf(out, "p50 added: ours - bare = %s, ours - floor = %s\n", ms(ours.p50-bare.p50), ms(ours.p50-floor.p50))
	fmt.Fprintf(out, "p99 added: ours - bare = %s, ours - floor = %s (target <= 0 against the floor)\n", ms(ours.p9-bare.p9), ms(ours.p9-floor.p9))
	return nil
}

// payload describes the result both servers returned.
type payload struct{ records, bytes int }

// observeZohoCall calls the tool once on ours and returns the Zoho call
// it made (path and query), from the sandbox's log: the call the floor
// server repeats and whose records the bare servers return.
func observeZohoCall(ctx context.Context, z *zohoSandbox, ours *target, spec benchTool, d time.Duration) (string, error) {
	before := len(z.sb.APIRequests())
	res, err := drive(ctx, ours.info.URLs[:1], spec.name, spec.args, 1, 1, d)
	if err != nil {
		return "", err
	}
	if res.errors > 0 {
		return "", fmt.Errorf("ours: %s failed", spec.name)
	}
	reqs := z.sb.APIRequests()[before:]
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet {
		return "", fmt.Errorf("ours made %d Zoho calls for one %s, want one GET: the bare servers could not serve its equivalent", len(reqs), spec.name)
	}
	return reqs[0].Path + "?" + reqs[0].Query.Encode(), nil
}

// samePayload calls the tool once on bare and on ours and checks that
// both return the same records, so the comparison is of like with like
// (the cursors differ: ours is a real one).
func samePayload(ctx context.Context, bare, ours *target, spec benchTool) (payload, error) {
	get := func(kind string, t *target) (json.RawMessage, error) {
		// A client on 2025-11-25 gets the text block from every server.
		client := sdk.NewClient(&sdk.Implementation{Name: "bigin-mcp-load", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: t.info.URLs[0], MaxRetries: -1},
			&sdk.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			return nil, err
		}
		defer cs.Close()
		r, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: spec.name, Arguments: spec.args})
		if err != nil {
			return nil, err
		}
		if r.IsError || len(r.Content) != 1 {
			return nil, fmt.Errorf("%s: want one text block and no error, got %d blocks, isError %v", kind, len(r.Content), r.IsError)
		}
		text, ok := r.Content[0].(*sdk.TextContent)
		if !ok {
			return nil, fmt.Errorf("%s: the content is not text", kind)
		}
		var body struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal([]byte(text.Text), &body); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		return body.Result, nil
	}
	b, err := get(kindBare, bare)
	if err != nil {
		return payload{}, err
	}
	o, err := get(kindOurs, ours)
	if err != nil {
		return payload{}, err
	}
	if !bytes.Equal(b, o) {
		return payload{}, fmt.Errorf("bare returns other records than ours (%d vs %d bytes): the comparison would be unfair", len(b), len(o))
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(o, &recs); err != nil {
		return payload{}, err
	}
	return payload{records: len(recs), bytes: len(o)}, nil
}

// add drives one round of n calls at t and adds it to m.
func (m *measured) add(ctx context.Context, t *target, spec benchTool, c, n int, d time.Duration) error {
	m0, err := t.memstats(false)
	if err != nil {
		return err
	}
	res, err := drive(ctx, t.info.URLs, spec.name, spec.args, c, n, d)
	if err != nil {
		return err
	}
	m1, err := t.memstats(false)
	if err != nil {
		return err
	}
	m.res.calls += res.calls
	m.res.errors += res.errors
	m.res.elapsed += res.elapsed
	m.res.latencies = append(m.res.latencies, res.latencies...)
	m.mallocs += m1.Mallocs - m0.Mallocs
	m.bytes += m1.TotalAlloc - m0.TotalAlloc
	return nil
}

// finish computes m's percentiles and per-call figures, and reads t's RSS.
func (m *measured) finish(t *target) error {
	rss, err := rssKB(t.info.PID)
	if err != nil {
		return err
	}
	slices.Sort(m.res.latencies)
	calls := float64(max(m.res.calls, 1))
	m.rssMB = float64(rss) / 1024
	m.allocsPerOp = float64(m.mallocs) / calls
	m.kbPerOp = float64(m.bytes) / calls / 1024
	m.p50, m.p95, m.p9 = percentile(m.res.latencies, 50), percentile(m.res.latencies, 95), percentile(m.res.latencies, 99)
	return nil
}

func runURLs(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("urls", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "MCP URLs to mint (straight into the store, 10,000 per transaction)")
	sample := fs.Int("sample", 1000, "distinct URLs to call after the restart")
	heap := fs.String("heapprofile", "", "write the server's heap profile after the calls to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkBounds(*n, 1, 1_000_000, "-n"); err != nil {
		return err
	}
	z, dir, cleanup, err := sandboxAndDir()
	if err != nil {
		return err
	}
	defer cleanup()
	start := time.Now()
	minter, err := startTarget(ctx, []string{refreshTokensEnv + "=" + z.sb.IssueRefreshToken()},
		"-kind", kindOurs, "-zoho", z.srv.URL, "-data", dir, "-urls", fmt.Sprint(*n), "-mint-only")
	if err != nil {
		return err
	}
	minter.stop()
	fmt.Fprintf(out, "minted %d URLs in %s\n", len(minter.info.URLs), time.Since(start).Round(time.Second))

	// A fresh server process on the same data: what a restart costs.
	t0 := time.Now()
	t, err := startTarget(ctx, nil, "-kind", kindOurs, "-zoho", z.srv.URL, "-data", dir)
	if err != nil {
		return err
	}
	defer t.stop()
	load := time.Since(t0)
	if _, err := t.memstats(true); err != nil {
		return err
	}
	idle, _ := rssKB(t.info.PID)
	idleFile, _ := procstat.StatusKB(t.info.PID, "RssFile")
	idleAnon, _ := procstat.StatusKB(t.info.PID, "RssAnon")
	var urls []string
	step := max(1, len(minter.info.URLs)/max(1, *sample))
	for i := 0; i < len(minter.info.URLs) && len(urls) < *sample; i += step {
		urls = append(urls, rebase(minter.info.URLs[i], t))
	}
	res, err := drive(ctx, urls, "list_all_zohobigin_current_organization", nil, min(32, len(urls)), len(urls)*2, 2*time.Minute)
	if err != nil {
		return err
	}
	busy, _ := rssKB(t.info.PID)
	busyFile, _ := procstat.StatusKB(t.info.PID, "RssFile")
	busyAnon, _ := procstat.StatusKB(t.info.PID, "RssAnon")
	ms, err := t.memstats(false)
	if err != nil {
		return err
	}
	if *heap != "" {
		if err := t.saveProfile("heap?gc=1", *heap); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "restart with %d URLs: ready in %s\n", len(minter.info.URLs), load.Round(time.Millisecond))
	fmt.Fprintf(out, "idle RSS %.1f MB (target < 150 MB) = %.1f MB own (anon) + %.1f MB file-backed (binary, mmapped database)\n",
		float64(idle)/1024, float64(idleAnon)/1024, float64(idleFile)/1024)
	fmt.Fprintf(out, "after %d calls over %d distinct URLs (%.0f req/s): RSS %.1f MB = %.1f MB anon + %.1f MB file-backed; Go heap in use %.1f MB\n",
		res.calls, len(urls), res.rps(), float64(busy)/1024, float64(busyAnon)/1024, float64(busyFile)/1024, float64(ms.HeapInuse)/(1<<20))
	fmt.Fprintln(out, "token resolution: go test ./tokens -run '^$' -bench BenchmarkResolve -benchmem (100,000 stored URLs)")
	return nil
}

// rebase points a minted URL at the running target (same path, its port).
func rebase(u string, t *target) string {
	i := strings.Index(u, "/mcp/")
	return t.base() + u[i:]
}

func (t *target) base() string { return t.info.Base }

// saveProfile writes one of the target's pprof profiles to a file.
func (t *target) saveProfile(name, path string) error {
	resp, err := http.Get(t.info.Debug + "/debug/pprof/" + name)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }

func runSSE(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sse", flag.ContinueOnError)
	k := fs.Int("k", 1000, "SSE sessions to hold open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkBounds(*k, 1, 20_000, "-k"); err != nil {
		return err
	}
	z, dir, cleanup, err := sandboxAndDir()
	if err != nil {
		return err
	}
	defer cleanup()
	t, err := startTarget(ctx, []string{refreshTokensEnv + "=" + z.sb.IssueRefreshToken()}, "-kind", kindOurs, "-zoho", z.srv.URL, "-data", dir)
	if err != nil {
		return err
	}
	defer t.stop()
	sseURL := t.info.URLs[0] + "/sse"
	if err := checkLoopbackURL(sseURL); err != nil {
		return err
	}
	// One session first, so lazily built state is not counted per session.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
	open := func() (io.Closer, error) {
		resp, err := client.Get(sseURL)
		if err != nil {
			return nil, err
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "event: endpoint") {
			resp.Body.Close()
			return nil, fmt.Errorf("no endpoint event (%q, %v)", line, err)
		}
		return resp.Body, nil
	}
	first, err := open()
	if err != nil {
		return err
	}
	defer first.Close()
	if _, err := t.memstats(true); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	before, _ := rssKB(t.info.PID)
	var streams []io.Closer
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for i := 0; i < *k; i++ {
		s, err := open()
		if err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
		streams = append(streams, s)
	}
	m, err := t.memstats(true)
	if err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	after, _ := rssKB(t.info.PID)
	extra := float64(after-before) / 1024
	fmt.Fprintf(out, "%d open SSE sessions: +%.1f MB RSS (target < 100 MB), %.1f KB per session; Go heap in use %.1f MB\n",
		*k, extra, float64(after-before)/float64(*k), float64(m.HeapInuse)/(1<<20))
	return nil
}

func runAccounts(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("accounts", flag.ContinueOnError)
	m := fs.Int("m", 10, "integrated accounts")
	c := fs.Int("c", 200, "concurrent calls per account")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkBounds(*m, 1, 200, "-m"); err != nil {
		return err
	}
	if err := checkBounds(*c, 1, 1000, "-c"); err != nil {
		return err
	}
	z, dir, cleanup, err := sandboxAndDir()
	if err != nil {
		return err
	}
	defer cleanup()
	var rts []string
	for i := 0; i < *m; i++ {
		rts = append(rts, z.sb.IssueRefreshToken())
	}
	t, err := startTarget(ctx, []string{refreshTokensEnv + "=" + strings.Join(rts, ",")}, "-kind", kindOurs, "-zoho", z.srv.URL, "-data", dir)
	if err != nil {
		return err
	}
	defer t.stop()
	setup := z.sb.RefreshCount()
	fmt.Fprintf(out, "%d accounts created: %d token refreshes (one each, to verify the credentials)\n", *m, setup)
	for phase, expire := range []bool{false, true} {
		if expire {
			z.sb.ExpireAccessTokens()
		}
		r0 := z.sb.RefreshCount()
		res, err := drive(ctx, t.info.URLs, "list_all_zohobigin_me", nil, *m**c, *m**c, 2*time.Minute)
		if err != nil {
			return err
		}
		got := z.sb.RefreshCount() - r0
		want := 0
		what := "cached access tokens"
		if expire {
			want, what = *m, "access tokens expired at Zoho"
		}
		fmt.Fprintf(out, "phase %d (%s): %d concurrent calls per account, %d calls ok, %d errors: %d refreshes (want %d, i.e. %d extra)\n",
			phase+1, what, *c, res.calls, res.errors, got, want, got-want)
	}
	return nil
}

// sandboxAndDir starts the sandbox Bigin and makes a data directory for a
// target; cleanup removes both.
func sandboxAndDir() (*zohoSandbox, string, func(), error) {
	dir, err := os.MkdirTemp("", "bigin-mcp-load-*")
	if err != nil {
		return nil, "", nil, err
	}
	z := startSandbox()
	return z, dir, func() { z.srv.Close(); os.RemoveAll(dir) }, nil
}

func checkBounds(v, lo, hi int, name string) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s must be between %d and %d", name, lo, hi)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
