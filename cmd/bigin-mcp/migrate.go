package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	fs := flag.NewFlagSet("bigin-mcp migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the bbolt file to copy (bigin-mcp.db)")
	to := fs.String("to", "", "where to copy it: etcd")
	var rest []string
	// The etcd and key settings are serve's; split them from our two.
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if n, _, ok := strings.Cut(name, "="); ok {
			name = n
		}
		if name == "from" || name == "to" {
			if !strings.Contains(a, "=") && i+1 < len(args) {
				if err := fs.Parse([]string{a, args[i+1]}); err != nil {
					return err
				}
				i++
				continue
			}
			if err := fs.Parse([]string{a}); err != nil {
				return err
			}
			continue
		}
		rest = append(rest, a)
	}
	if *from == "" || *to != "etcd" {
		return errors.New("usage: bigin-mcp migrate --from <bbolt path> --to etcd (with BIGIN_MCP_ETCD_* and BIGIN_MCP_SECRET_KEY, or their flags)")
	}
	env := func(k string) string {
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
	}
	cfg, err := parseConfig("bigin-mcp migrate", rest, env, stderr)
	if err != nil {
		return err
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("--from: %w", err)
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

// count is what copyStore did with one kind of record.
type count struct {
	kind            string
	copied, present int
}

// copyStore copies every record of src into dst, leaving those already
// there, and reports counts per kind.
func copyStore(ctx context.Context, src *store.DB, dst tokens.Store) ([]count, error) {
	var out []count
	tally := func(c *count, err error) error {
		switch {
		case err == nil:
			c.copied++
		case errors.Is(err, tokens.ErrConflict):
			c.present++
		default:
			return err
		}
		return nil
	}
	acc := count{kind: "accounts"}
	err := pages(func(after string) (string, bool, error) {
		list, more, err := src.Accounts(ctx, after, 100)
		for _, a := range list {
			if err := tally(&acc, dst.CreateAccount(ctx, a)); err != nil {
				return "", false, fmt.Errorf("account %s: %w", a.ID, err)
			}
			after = a.ID
		}
		return after, more && len(list) > 0, err
	})
	out = append(out, acc)
	if err != nil {
		return out, err
	}
	srv := count{kind: "mcp servers"}
	err = src.ForEachMCPServer(ctx, func(m *tokens.MCPServer) error {
		if err := tally(&srv, dst.CreateMCPServer(ctx, m)); err != nil {
			return fmt.Errorf("mcp server %s: %w", m.ID, err)
		}
		return nil
	})
	out = append(out, srv)
	if err != nil {
		return out, err
	}
	tok := count{kind: "api tokens"}
	err = pages(func(after string) (string, bool, error) {
		list, more, err := src.APITokens(ctx, after, 100)
		for _, t := range list {
			if err := tally(&tok, dst.CreateAPIToken(ctx, t)); err != nil {
				return "", false, fmt.Errorf("api token %s: %w", t.ID, err)
			}
			after = t.ID
		}
		return after, more && len(list) > 0, err
	})
	out = append(out, tok)
	if err != nil {
		return out, err
	}
	lnk := count{kind: "connect links"}
	err = pages(func(after string) (string, bool, error) {
		list, more, err := src.ConnectLinks(ctx, after, 100)
		for _, l := range list {
			if err := tally(&lnk, dst.CreateConnectLink(ctx, l)); err != nil {
				return "", false, fmt.Errorf("connect link %s: %w", l.ID, err)
			}
			after = l.ID
		}
		return after, more && len(list) > 0, err
	})
	out = append(out, lnk)
	if err != nil {
		return out, err
	}
	// OAuth clients and grants come along, so the AI clients signed in to
	// oauth URLs keep their registrations and refresh tokens.
	cli := count{kind: "oauth clients"}
	var clients []*tokens.OAuthClient
	err = src.ForEachOAuthClient(ctx, func(c *tokens.OAuthClient) error { clients = append(clients, c); return nil })
	for _, c := range clients {
		if err != nil {
			break
		}
		if terr := tally(&cli, dst.CreateOAuthClient(ctx, c)); terr != nil {
			err = fmt.Errorf("oauth client %s: %w", c.ID, terr)
		}
	}
	out = append(out, cli)
	if err != nil {
		return out, err
	}
	grt := count{kind: "oauth grants"}
	err = src.ForEachMCPServer(ctx, func(m *tokens.MCPServer) error {
		return pages(func(after string) (string, bool, error) {
			list, more, err := src.OAuthGrants(ctx, m.ID, after, 100)
			for _, g := range list {
				if err := tally(&grt, dst.CreateOAuthGrant(ctx, g)); err != nil {
					return "", false, fmt.Errorf("oauth grant %s: %w", g.ID, err)
				}
				after = g.ID
			}
			return after, more && len(list) > 0, err
		})
	})
	out = append(out, grt)
	if err != nil {
		return out, err
	}
	// Cached ACME keys and certificates: the replicas share them, so
	// they need not order new certificates for the domain. An entry
	// already in etcd (a replica may have renewed it) is kept.
	cch := count{kind: "cache entries"}
	type entry struct {
		key   string
		value []byte
	}
	var entries []entry
	err = src.ForEachCache(ctx, func(k string, v []byte) error { entries = append(entries, entry{k, v}); return nil })
	for _, e := range entries {
		if err != nil {
			break
		}
		_, gerr := dst.CacheGet(ctx, e.key)
		switch {
		case gerr == nil:
			cch.present++
		case errors.Is(gerr, tokens.ErrNotFound):
			if perr := dst.CachePut(ctx, e.key, e.value); perr != nil {
				err = fmt.Errorf("cache entry %q: %w", e.key, perr)
			} else {
				cch.copied++
			}
		default:
			err = fmt.Errorf("cache entry %q: %w", e.key, gerr)
		}
	}
	out = append(out, cch)
	if err != nil {
		return out, err
	}
	// Audit entries keep their IDs, so copying one again rewrites it as
	// it was: every entry counts as copied.
	aud := count{kind: "audit entries"}
	before := ""
	for {
		list, more, err := src.Audit(ctx, before, 500)
		if err != nil {
			return append(out, aud), err
		}
		for _, e := range list {
			if err := dst.AppendAudit(ctx, e); err != nil {
				return append(out, aud), fmt.Errorf("audit entry %s: %w", e.ID, err)
			}
			aud.copied++
			before = e.ID
		}
		if !more || len(list) == 0 {
			break
		}
	}
	return append(out, aud), nil
}

// pages calls next from "" until it reports no more.
func pages(next func(after string) (string, bool, error)) error {
	after := ""
	for {
		a, more, err := next(after)
		if err != nil || !more {
			return err
		}
		after = a
	}
}
