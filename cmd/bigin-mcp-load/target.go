package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// targetMode is the hidden mode in which this binary runs one server
// under test in its own process.
const targetMode = "__target"

// Kinds of server under test.
const (
	kindOurs  = "ours"  // the real bigin-mcp stack against the sandbox
	kindBare  = "bare"  // a bare go-sdk stateless server returning a fixed payload
	kindFloor = "floor" // bare, plus one loopback call to the sandbox per tools/call
	kindMaps  = "maps"  // a bare go-sdk server whose typed tool builds the users as maps on every call
)

// targetInfo is the one JSON line a target prints when it is ready.
type targetInfo struct {
	PID   int      `json:"pid"`
	Base  string   `json:"base"`  // the server's base URL
	URLs  []string `json:"urls"`  // MCP endpoints to call
	Debug string   `json:"debug"` // loopback base of /memstats
}

// refreshTokensEnv carries the sandbox refresh tokens to a target (one per
// account), so they never appear on a command line.
const refreshTokensEnv = "BIGIN_MCP_LOAD_REFRESH_TOKENS"

// accessTokenEnv carries a sandbox access token to the bare and floor
// servers.
const accessTokenEnv = "BIGIN_MCP_LOAD_ACCESS_TOKEN"

func runTarget(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(targetMode, flag.ContinueOnError)
	kind := fs.String("kind", kindOurs, "ours, bare, floor or maps")
	structuredOnly := fs.Bool("structured-only", false, "ours: leave out the text block for clients on protocol 2026-07-28 (the server's opt-in)")
	zoho := fs.String("zoho", "", "sandbox Bigin base URL")
	urls := fs.Int("urls", 1, "MCP URLs to mint per account (ours)")
	dataDir := fs.String("data", "", "data directory (ours); reused if it holds a database")
	mintOnly := fs.Bool("mint-only", false, "mint, print, and exit (ours)")
	tool := fs.String("tool-name", usersTool, "bare, floor and maps: the name of their one tool")
	zohoCall := fs.String("zoho-call", "/bigin/v2/users?type=AllUsers&page=1&per_page=100", "bare, floor and maps: the Zoho call (path and query) whose records the tool returns")
	listKey := fs.String("list-key", "users", "bare, floor and maps: the key of Zoho's answer that holds the records")
	so := storeOptions{}
	fs.StringVar(&so.etcd, "etcd", "", "comma-separated etcd endpoints: keep the records there instead of a bbolt file (ours)")
	fs.StringVar(&so.prefix, "etcd-prefix", "", "etcd key prefix (ours, with -etcd)")
	fs.BoolVar(&so.replica, "replica", false, "join the records another target made: create no account (ours, with -etcd)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopbackURL(*zoho); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	info := targetInfo{PID: os.Getpid(), Base: base}

	switch *kind {
	case kindOurs:
		closeFn, list, err := setupOurs(ctx, mux, base, *zoho, *dataDir, *urls, so, *structuredOnly)
		if err != nil {
			return err
		}
		defer closeFn()
		info.URLs = list
		if *mintOnly {
			return json.NewEncoder(os.Stdout).Encode(info)
		}
	case kindBare, kindFloor, kindMaps:
		h, err := setupBare(ctx, *kind, *zoho, *tool, *zohoCall, *listKey)
		if err != nil {
			return err
		}
		mux.Handle("/mcp", h)
		info.URLs = []string{base + "/mcp"}
	default:
		return fmt.Errorf("unknown kind %q", *kind)
	}

	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	dmux := http.NewServeMux()
	dmux.HandleFunc("/memstats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		json.NewEncoder(w).Encode(map[string]uint64{"mallocs": m.Mallocs, "total_alloc": m.TotalAlloc, "heap_inuse": m.HeapInuse})
	})
	dmux.HandleFunc("/debug/pprof/", pprof.Index)
	dmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	info.Debug = "http://" + dln.Addr().String()
	go http.Serve(dln, dmux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	if err := json.NewEncoder(os.Stdout).Encode(info); err != nil {
		return err
	}
	// Serve until the driver closes our stdin (or dies).
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// storeOptions chooses the store of an "ours" target.
type storeOptions struct {
	etcd, prefix string // endpoints ("" for a bbolt file) and key prefix
	replica      bool   // another target created the records
}

// adminTokenEnv carries the admin API token a target registers (as
// BIGIN_MCP_ADMIN_TOKEN does for serve), for the mint measurements.
const adminTokenEnv = "BIGIN_MCP_LOAD_ADMIN_TOKEN"

// openStore opens the target's store: the bbolt file in dir, or the etcd
// cluster of so.
func openStore(ctx context.Context, dir string, key []byte, so storeOptions) (tokens.Store, error) {
	if so.etcd == "" {
		return store.Open(filepath.Join(dir, "bigin-mcp.db"), store.Options{Key: key})
	}
	for _, ep := range strings.Split(so.etcd, ",") {
		if err := checkLoopbackURL(ep); err != nil {
			return nil, err
		}
	}
	c, err := etcdstore.Dial(etcdstore.ClientConfig{Endpoints: strings.Split(so.etcd, ",")})
	if err != nil {
		return nil, err
	}
	s, err := etcdstore.Open(ctx, etcdstore.Options{Client: c, Prefix: so.prefix, Key: key})
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// setupOurs assembles the real server as cmd/bigin-mcp serve does, with
// one integrated account per refresh token, each with n MCP URLs.
func setupOurs(ctx context.Context, mux *http.ServeMux, base, zoho, dir string, n int, so storeOptions, structuredOnly bool) (func(), []string, error) {
	dcs, err := bigin.ParseDatacenters(fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q}}`, zoho, zoho))
	if err != nil {
		return nil, nil, err
	}
	if dir == "" {
		return nil, nil, errors.New("-data is required")
	}
	key := bytes.Repeat([]byte{7}, 32) // a measuring tool's throwaway database
	db, err := openStore(ctx, dir, key, so)
	if err != nil {
		return nil, nil, err
	}
	// The production stack, request log included: JSON lines at info
	// level as serve writes them, into io.Discard, so their cost is
	// measured without the terminal.
	// The result budget is set to its maximum so that a page is never
	// cut: bare and ours must return the same 100 records for the
	// latencies to compare the same work.
	stack, err := app.New(ctx, db, app.Config{
		PublicURL: base, Datacenters: dcs,
		ZohoClientID: sandbox.DefaultClientID, ZohoClientSecret: sandbox.DefaultClientSecret,
		SecretKey: key, Version: "load", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		MaxResultChars: tokens.MaxResultChars, StructuredOnly: structuredOnly,
	})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	debug.FreeOSMemory() // as cmd/bigin-mcp serve does after loading the index
	mux.Handle("/", stack.Handler())
	go stack.RunSweeper(ctx, 30*time.Second) // as serve does
	svc := stack.Service
	if tok := os.Getenv(adminTokenEnv); tok != "" {
		if _, err := svc.Bootstrap(ctx, tok); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("admin token: %w", err)
		}
	}

	var list []string
	for i, rt := range strings.Split(os.Getenv(refreshTokensEnv), ",") {
		if rt == "" || so.replica {
			continue
		}
		a, err := svc.CreateAccount(ctx, tokens.NewAccount{Name: fmt.Sprintf("load %d", i), Datacenter: "us", RefreshToken: rt})
		if err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("account %d: %w", i, err)
		}
		if n <= 100 {
			for j := 0; j < n; j++ {
				_, u, err := svc.CreateMCPServer(ctx, a.ID, tokens.NewMCPServer{Name: fmt.Sprintf("load %d/%d", i, j)})
				if err != nil {
					db.Close()
					return nil, nil, err
				}
				list = append(list, u)
			}
			continue
		}
		// Many URLs: mint them straight into the store in batches of
		// 10,000 per transaction (one transaction each through the admin
		// path would take minutes); a server started on this data loads
		// them like any others.
		bdb, ok := db.(*store.DB)
		if !ok {
			db.Close()
			return nil, nil, errors.New("more than 100 URLs per account need a bbolt file")
		}
		urls, err := mintBatch(ctx, bdb, a.ID, base, n)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		list = append(list, urls...)
	}
	return func() { db.Close() }, list, nil
}

func mintBatch(ctx context.Context, db *store.DB, accountID, base string, n int) ([]string, error) {
	var list []string
	for done := 0; done < n; {
		size := min(10_000, n-done)
		batch := make([]*tokens.MCPServer, size)
		for k := range batch {
			tok := tokens.NewMCPToken()
			batch[k] = &tokens.MCPServer{ID: uuid.Must(uuid.NewV7()).String(), AccountID: accountID,
				Name: fmt.Sprintf("load %d", done+k), TokenHash: tokens.HashToken(tok)}
			list = append(list, base+"/mcp/"+tok)
		}
		if err := db.CreateMCPServers(ctx, batch); err != nil {
			return nil, err
		}
		done += size
	}
	return list, nil
}

// setupBare builds the comparison server: the go-sdk's stateless
// streamable handler with one tool, named tool, returning the records
// ours returns, those of the Zoho call (path and query) under listKey of
// its answer (bare), or fetching them from the sandbox on every call and
// returning Zoho's answer as is (floor), or decoding them into maps on
// every call (maps).
func setupBare(ctx context.Context, kind, zoho, tool, call, listKey string) (http.Handler, error) {
	if !strings.HasPrefix(call, "/bigin/") {
		return nil, fmt.Errorf("-zoho-call %q is not a Bigin API path", call)
	}
	var fetch func(context.Context) ([]byte, error)
	// The floor calls the sandbox through the same transport as ours, so
	// that the two differ by our work and not by connection reuse.
	client := &http.Client{Timeout: 30 * time.Second, Transport: bigin.NewTransport()}
	token := os.Getenv(accessTokenEnv)
	if token == "" {
		return nil, errors.New("no access token for the floor server")
	}
	fetch = func(ctx context.Context) ([]byte, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", zoho+call, nil)
		req.Header.Set("Authorization", "Zoho-oauthtoken "+token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	payload, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", call, err)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(env[listKey], &records); err != nil || len(records) == 0 {
		return nil, fmt.Errorf("sandbox %s: no records under %q", call, listKey)
	}
	fixed, _ := json.Marshal(map[string]any{"result": records, "next_cursor": "c1.x"})
	srv := sdk.NewServer(&sdk.Implementation{Name: "bare", Version: "1"}, &sdk.ServerOptions{Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{}}})
	if kind == kindMaps {
		addMapsTool(srv, tool, env[listKey])
		return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true}), nil
	}
	srv.AddTool(&sdk.Tool{Name: tool, InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			body := fixed
			if kind == kindFloor {
				b, err := fetch(ctx)
				if err != nil {
					return nil, err
				}
				body = b
			}
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(body)}}, StructuredContent: json.RawMessage(body)}, nil
		})
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true}), nil
}

// mapsOut is the maps server's typed result: the records as a naive tool
// holds them after decoding Zoho's answer.
type mapsOut struct {
	Result     []map[string]any `json:"result"`
	NextCursor string           `json:"next_cursor"`
}

// addMapsTool adds the maps server's one tool: on every call it decodes
// the same records (the JSON array records) into maps, as a tool that
// decodes Zoho's answer would, and returns them through the go-sdk's
// typed handler, which encodes them as the text block and as structured
// content.
func addMapsTool(srv *sdk.Server, tool string, records json.RawMessage) {
	sdk.AddTool(srv, &sdk.Tool{Name: tool},
		func(ctx context.Context, req *sdk.CallToolRequest, _ map[string]any) (*sdk.CallToolResult, mapsOut, error) {
			var recs []map[string]any
			if err := json.Unmarshal(records, &recs); err != nil {
				return nil, mapsOut{}, err
			}
			return nil, mapsOut{Result: recs, NextCursor: "c1.x"}, nil
		})
}
