package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// migrate copies a bbolt file into etcd: `bigin-mcp migrate --from
// <bbolt path> --to etcd`, with the etcd settings of serve. Every record
// keeps its ID (and so its URL, whose token only the hash in the record
// knows); a record already in etcd is left as it is, so the command can be
// run again after an interruption and copies only what is missing. Secrets
// are opened with the bbolt file's key and sealed again with the same key,
// which every replica must then be given as BIGIN_MCP_SECRET_KEY. It
// copies accounts, MCP servers, API tokens (with their limits), connect
// links (used and revoked ones as they are), OAuth clients and grants (so
// signed-in AI clients stay signed in), cached ACME keys and certificates
// (so the replicas need not order new ones), and the audit log.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// The etcd and key settings are serve's; --from and --to are added to
	// their flags.
	flags, resolve := configFlags("bigin-mcp migrate", stderr, func(env string) bool {
		return env == "BIGIN_MCP_SECRET_KEY" || strings.HasPrefix(env, "BIGIN_MCP_ETCD_")
	})
	from := flags.String("from", "", "the bbolt file to copy (bigin-mcp.db)")
	to := flags.String("to", "", "where to copy it: etcd")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if *from == "" || *to != "etcd" {
		err := errors.New("usage: bigin-mcp migrate --from <bbolt path> --to etcd (with BIGIN_MCP_ETCD_* and BIGIN_MCP_SECRET_KEY, or their flags)")
		fmt.Fprintf(stderr, "%v\n\n", err)
		printUsage(stderr, flags)
		return &usageError{err: err}
	}
	if err := checkSource(*from); err != nil {
		return err
	}
	cfg, err := resolve(func(k string) string {
		switch k {
		case "BIGIN_MCP_STORE":
			return "etcd"
		case "BIGIN_MCP_SECRET_KEY":
			if v := getenv(k); v != "" {
				return v
			}
			// The key the bbolt file was made with, when it was generated.
			if b, err := os.ReadFile(filepath.Join(filepath.Dir(*from), store.KeyFileName)); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
		return getenv(k)
	})
	if err != nil {
		return err
	}
	key, err := store.LoadOrCreateKey("", cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
	}
	src, err := store.Open(*from, store.Options{Key: key, LockTimeout: 5 * time.Second})
	if err != nil {
		if errors.Is(err, store.ErrWrongKey) {
			return fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
		}
		return fmt.Errorf("--from: %w (stop the server that uses it first)", err)
	}
	defer src.Close()
	client, err := etcdstore.Dial(cfg.Etcd)
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_ETCD_ENDPOINTS: %w", err)
	}
	dst, err := etcdstore.Open(ctx, etcdstore.Options{Client: client, Prefix: cfg.EtcdPrefix, Key: key, AuditRetention: -1})
	if err != nil {
		_ = client.Close()
		if errors.Is(err, etcdstore.ErrWrongKey) {
			return fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
		}
		return fmt.Errorf("open the etcd store: %w", err)
	}
	defer dst.Close()
	counts, err := copyStore(ctx, src, dst)
	for _, c := range counts {
		fmt.Fprintf(stdout, "%-14s %6d copied, %6d already there\n", c.kind+":", c.copied, c.present)
	}
	if err != nil {
		return fmt.Errorf("migrate (run it again to resume): %w", err)
	}
	fmt.Fprintln(stdout, "done: point every replica at etcd with this BIGIN_MCP_SECRET_KEY")
	return nil
}

// checkSource makes sure --from names a file, before the settings are
// read: a wrong path is a wrong path, not a missing secret key.
func checkSource(from string) error {
	fi, err := os.Stat(from)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--from: there is no file %s (give the path of the bbolt file, %s in the server's data directory)", from, store.DBFileName)
	case err != nil:
		return fmt.Errorf("--from: %w", err)
	case fi.IsDir():
		return fmt.Errorf("--from: %s is a directory; give the path of the bbolt file in it, %s", from, filepath.Join(from, store.DBFileName))
	}
	return nil
}

// count is what copyStore did with one kind of record.
type count struct {
	kind            string
	copied, present int
}

// recordKind is one kind of record that migrate copies.
type recordKind struct {
	kind string // plural, as the report names it
	one  string // singular, as an error names one record
	// copy hands every record of the kind in src to put, which writes it
	// to dst, stopping at put's first error.
	copy func(ctx context.Context, src *store.DB, dst tokens.Store, put func(id string, err error) error) error
}

// recordKinds lists what migrate copies, in an order that creates each
// record after those it refers to (a server after its account, a grant
// after its server and client).
func recordKinds() []recordKind {
	return []recordKind{
		{"accounts", "account", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			return eachPage(ctx, src.Accounts, func(a *tokens.Account) (string, error) { return a.ID, put(a.ID, dst.CreateAccount(ctx, a)) })
		}},
		{"mcp servers", "mcp server", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			return src.ForEachMCPServer(ctx, func(m *tokens.MCPServer) error { return put(m.ID, dst.CreateMCPServer(ctx, m)) })
		}},
		{"api tokens", "api token", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			return eachPage(ctx, src.APITokens, func(t *tokens.APIToken) (string, error) { return t.ID, put(t.ID, dst.CreateAPIToken(ctx, t)) })
		}},
		{"connect links", "connect link", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			return eachPage(ctx, src.ConnectLinks, func(l *tokens.ConnectLink) (string, error) { return l.ID, put(l.ID, dst.CreateConnectLink(ctx, l)) })
		}},
		// OAuth clients and grants come along, so the AI clients signed in
		// to oauth URLs keep their registrations and refresh tokens.
		{"oauth clients", "oauth client", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			// src's walk runs in a read transaction: collect, then write.
			var clients []*tokens.OAuthClient
			if err := src.ForEachOAuthClient(ctx, func(c *tokens.OAuthClient) error { clients = append(clients, c); return nil }); err != nil {
				return err
			}
			for _, c := range clients {
				if err := put(c.ID, dst.CreateOAuthClient(ctx, c)); err != nil {
					return err
				}
			}
			return nil
		}},
		{"oauth grants", "oauth grant", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			return src.ForEachMCPServer(ctx, func(m *tokens.MCPServer) error {
				list := func(ctx context.Context, after string, limit int) ([]*tokens.OAuthGrant, bool, error) {
					return src.OAuthGrants(ctx, m.ID, after, limit)
				}
				return eachPage(ctx, list, func(g *tokens.OAuthGrant) (string, error) { return g.ID, put(g.ID, dst.CreateOAuthGrant(ctx, g)) })
			})
		}},
		// Cached ACME keys and certificates: the replicas share them, so
		// they need not order new certificates for the domain. An entry
		// already in etcd (a replica may have renewed it) is kept.
		{"cache entries", "cache entry", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			type entry struct {
				key   string
				value []byte
			}
			var entries []entry
			if err := src.ForEachCache(ctx, func(k string, v []byte) error { entries = append(entries, entry{k, v}); return nil }); err != nil {
				return err
			}
			for _, e := range entries {
				_, err := dst.CacheGet(ctx, e.key)
				switch {
				case err == nil:
					err = tokens.ErrConflict // there already
				case errors.Is(err, tokens.ErrNotFound):
					err = dst.CachePut(ctx, e.key, e.value)
				}
				if err := put(strconv.Quote(e.key), err); err != nil {
					return err
				}
			}
			return nil
		}},
		// Audit entries keep their IDs. Appending one that is there
		// already would rewrite it as it was, so those are found first
		// and counted as already there.
		{"audit entries", "audit entry", func(ctx context.Context, src *store.DB, dst tokens.Store, put func(string, error) error) error {
			there := map[string]bool{}
			if err := eachPage(ctx, dst.Audit, func(e *tokens.AuditEntry) (string, error) { there[e.ID] = true; return e.ID, nil }); err != nil {
				return err
			}
			return eachPage(ctx, src.Audit, func(e *tokens.AuditEntry) (string, error) {
				if there[e.ID] {
					return e.ID, put(e.ID, tokens.ErrConflict)
				}
				return e.ID, put(e.ID, dst.AppendAudit(ctx, e))
			})
		}},
	}
}

// copyStore copies every record of src into dst, leaving those already
// there, and reports counts per kind, up to the kind that failed.
func copyStore(ctx context.Context, src *store.DB, dst tokens.Store) ([]count, error) {
	var out []count
	for _, k := range recordKinds() {
		c := count{kind: k.kind}
		err := k.copy(ctx, src, dst, func(id string, err error) error {
			switch {
			case err == nil:
				c.copied++
			case errors.Is(err, tokens.ErrConflict):
				c.present++
			default:
				return fmt.Errorf("%s %s: %w", k.one, id, err)
			}
			return nil
		})
		out = append(out, c)
		if err != nil {
			return out, fmt.Errorf("%s: %w", k.kind, err)
		}
	}
	return out, nil
}

// pageSize is how many records migrate reads at a time.
const pageSize = 100

// eachPage calls fn for every record list returns, a page at a time. fn
// returns the record's ID, which is the cursor list takes to give the
// records after it (before it, for the audit log: newest first).
func eachPage[T any](ctx context.Context, list func(ctx context.Context, cursor string, limit int) ([]T, bool, error), fn func(T) (string, error)) error {
	cursor := ""
	for {
		page, more, err := list(ctx, cursor, pageSize)
		if err != nil {
			return err
		}
		for _, r := range page {
			id, err := fn(r)
			if err != nil {
				return err
			}
			cursor = id
		}
		if !more || len(page) == 0 {
			return nil
		}
	}
}
