package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// scaleRow is one deployment's line in the scale table.
type scaleRow struct {
	name      string
	res       result
	mints     []time.Duration // sorted
	mintFails int
}

// runScale compares three replicas on a three-member etcd cluster with
// one replica on a bbolt file: tool-call throughput and latency with the
// calls spread over the replicas, and the latency of minting a URL
// through the admin API. Everything runs on this machine: the etcd
// members and the sandbox in the driver process, each replica in a
// process of its own.
func runScale(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	c := fs.Int("c", 32, "concurrent MCP clients")
	n := fs.Int("n", 2000, "tools/call requests per deployment (after warm-up)")
	nURLs := fs.Int("urls", 30, "MCP URLs minted; the clients spread over them (and over the replicas)")
	replicas := fs.Int("replicas", 3, "replicas on etcd")
	members := fs.Int("members", 3, "etcd members")
	mints := fs.Int("mints", 100, "URLs minted one after another through the admin API, per deployment")
	d := fs.Duration("duration", 120*time.Second, "time limit per deployment's calls")
	warm := fs.Int("warmup", 200, "warm-up calls per deployment, not measured")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, b := range []struct {
		v, lo, hi int
		name      string
	}{{*c, 1, 1024, "-c"}, {*n, 1, 1_000_000, "-n"}, {*nURLs, 1, 100, "-urls"}, {*replicas, 1, 16, "-replicas"}, {*members, 1, 7, "-members"}, {*mints, 1, 10_000, "-mints"}} {
		if err := checkBounds(b.v, b.lo, b.hi, b.name); err != nil {
			return err
		}
	}
	z := startSandbox()
	defer z.srv.Close()
	dir, err := os.MkdirTemp("", "bigin-mcp-load-scale-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	admin := tokens.NewAPIToken()

	measure := func(name string, targets []*target) (scaleRow, error) {
		row := scaleRow{name: name}
		var urls []string
		for _, u := range targets[0].info.URLs {
			for _, t := range targets {
				urls = append(urls, rebase(u, t))
			}
		}
		if *warm > 0 {
			if _, err := drive(ctx, urls, usersTool, usersArgs, *c, *warm, *d); err != nil {
				return row, fmt.Errorf("%s warm-up: %w", name, err)
			}
		}
		if row.res, err = drive(ctx, urls, usersTool, usersArgs, *c, *n, *d); err != nil {
			return row, fmt.Errorf("%s: %w", name, err)
		}
		row.mints, row.mintFails, err = mintLatencies(ctx, targets, admin, *mints)
		return row, err
	}

	var rows []scaleRow
	bolt, err := startTarget(ctx, []string{refreshTokensEnv + "=" + z.sb.IssueRefreshToken(), adminTokenEnv + "=" + admin},
		"-kind", kindOurs, "-zoho", z.srv.URL, "-data", filepath.Join(dir, "bbolt"), "-urls", fmt.Sprint(*nURLs))
	if err != nil {
		return fmt.Errorf("bbolt replica: %w", err)
	}
	row, err := measure("1 replica, bbolt", []*target{bolt})
	bolt.stop()
	if err != nil {
		return err
	}
	rows = append(rows, row)

	endpoints, stopEtcd, err := startEtcd(filepath.Join(dir, "etcd"), *members)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer stopEtcd()
	etcdArgs := []string{"-kind", kindOurs, "-zoho", z.srv.URL, "-data", dir, "-urls", fmt.Sprint(*nURLs),
		"-etcd", strings.Join(endpoints, ","), "-etcd-prefix", "/load/" + uuid.NewString() + "/"}
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()
	for i := range *replicas {
		env := []string{adminTokenEnv + "=" + admin}
		args := etcdArgs
		if i == 0 {
			env = append(env, refreshTokensEnv+"="+z.sb.IssueRefreshToken())
		} else {
			args = append(slices.Clone(etcdArgs), "-replica")
		}
		t, err := startTarget(ctx, env, args...)
		if err != nil {
			return fmt.Errorf("etcd replica %d: %w", i+1, err)
		}
		targets = append(targets, t)
	}
	row, err = measure(fmt.Sprintf("%d replicas, etcd (%d members)", *replicas, *members), targets)
	if err != nil {
		return err
	}
	rows = append(rows, row)

	fmt.Fprintf(out, "tools/call %s (limit 100), C=%d, %d calls per deployment spread over %d URLs and every replica, loopback, GOMAXPROCS=%d\n",
		usersTool, *c, *n, *nURLs, gomaxprocs())
	fmt.Fprintf(out, "every replica and every etcd member on this one machine; mints: %d one after another through the admin API, round-robin over the replicas\n\n", *mints)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "deployment\tcalls\terrors\tcalls/s\tp50\tp99\tmint p50\tmint p99\tmint errors\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%d\t\n", r.name, r.res.calls, r.res.errors, r.res.rps(),
			ms(percentile(r.res.latencies, 50)), ms(percentile(r.res.latencies, 99)),
			ms(percentile(r.mints, 50)), ms(percentile(r.mints, 99)), r.mintFails)
	}
	return tw.Flush()
}

// mintLatencies mints k URLs one after another through the admin API of
// the targets in turn, for the first account, and returns the sorted
// latencies of those that succeeded and how many failed.
func mintLatencies(ctx context.Context, targets []*target, admin string, k int) ([]time.Duration, int, error) {
	call := func(method, u string, body any) (*http.Response, error) {
		if err := checkLoopbackURL(u); err != nil {
			return nil, err
		}
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}
	resp, err := call("GET", targets[0].base()+"/admin/integrated-accounts", nil)
	if err != nil {
		return nil, 0, err
	}
	var list struct {
		Result []struct {
			ID string `json:"id"`
		} `json:"result"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Result) == 0 {
		return nil, 0, fmt.Errorf("list accounts (status %d): %v", resp.StatusCode, err)
	}
	acct := url.PathEscape(list.Result[0].ID)
	var lats []time.Duration
	fails := 0
	for i := range k {
		t0 := time.Now()
		resp, err := call("POST", targets[i%len(targets)].base()+"/admin/integrated-accounts/"+acct+"/mcp", map[string]any{"name": fmt.Sprintf("mint %d", i)})
		lat := time.Since(t0)
		if err != nil {
			return nil, 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			fails++
			continue
		}
		lats = append(lats, lat)
	}
	slices.Sort(lats)
	return lats, fails, nil
}

// startEtcd starts an etcd cluster of n members in this process, on
// loopback ports, with their data under dir (fsync on, as in
// production), and returns the client endpoints and a stop function.
func startEtcd(dir string, n int) ([]string, func(), error) {
	free := func() (url.URL, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return url.URL{}, err
		}
		defer ln.Close()
		return url.URL{Scheme: "http", Host: ln.Addr().String()}, nil
	}
	var cfgs []*embed.Config
	var initial, endpoints []string
	for i := range n {
		peer, err := free()
		if err != nil {
			return nil, nil, err
		}
		client, err := free()
		if err != nil {
			return nil, nil, err
		}
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = "bigin-mcp-load"
		cfg.ClusterState = embed.ClusterStateFlagNew
		cfg.Logger = "zap"
		cfg.LogLevel = "error"
		cfg.LogOutputs = []string{filepath.Join(dir, cfg.Name+".log")}
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfgs = append(cfgs, cfg)
		initial = append(initial, cfg.Name+"="+peer.String())
		endpoints = append(endpoints, client.String())
	}
	var started []*embed.Etcd
	stop := func() {
		for _, e := range started {
			e.Close()
		}
	}
	type res struct {
		e   *embed.Etcd
		err error
	}
	ch := make(chan res, n)
	for _, cfg := range cfgs {
		cfg.InitialCluster = strings.Join(initial, ",")
		go func() { e, err := embed.StartEtcd(cfg); ch <- res{e, err} }()
	}
	var firstErr error
	for range n {
		r := <-ch
		if r.err != nil {
			firstErr = r.err
			continue
		}
		started = append(started, r.e)
	}
	if firstErr != nil {
		stop()
		return nil, nil, firstErr
	}
	for _, e := range started {
		select {
		case <-e.Server.ReadyNotify():
		case <-time.After(60 * time.Second):
			stop()
			return nil, nil, fmt.Errorf("etcd member not ready within 60s")
		}
	}
	return endpoints, stop, nil
}
