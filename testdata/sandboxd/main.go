// Command sandboxd serves the sandbox Bigin (a fake Zoho, package
// bigin/sandbox) on a loopback port for the third-party client suite in
// testdata/clients, with a small control API under /_sandboxd/ so tests
// can issue refresh tokens (with every scope, or the directory scopes
// only), inject faults, read the seeded data and record ids, register the
// redirect URI of each server under test (its sign-in sends browsers to
// no other address), choose which sandbox user signs in at its Zoho
// sign-in (and whether they deny it), and change a user's status.
//
// It prints one JSON line on stdout, {"url","client_id","client_secret"},
// and exits on SIGINT, SIGTERM or when its stdin closes (so it never
// outlives the test runner that started it).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
}

func run() error {
	sb := sandbox.New(sandbox.Options{Location: "us"})
	// Like a real Zoho client, the sandbox's sends sign-ins only to the
	// redirect URIs registered (none yet): each server under test
	// registers its own callback before it starts.
	var (
		mu        sync.Mutex
		redirects []string
	)
	sb.SetRedirectURIs()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	sb.SetBaseURL(base)

	mux := http.NewServeMux()
	mux.Handle("/", sb)
	mux.HandleFunc("POST /_sandboxd/refresh-token", func(w http.ResponseWriter, r *http.Request) {
		// ?scopes=directory issues a token with the directory scopes
		// only, as an account connected before the record tools holds:
		// its record calls get OAUTH_SCOPE_MISMATCH.
		switch r.URL.Query().Get("scopes") {
		case "":
			writeJSON(w, map[string]string{"refresh_token": sb.IssueRefreshToken()})
		case "directory":
			writeJSON(w, map[string]string{"refresh_token": sb.IssueRefreshToken(sandbox.DirectoryScopes()...)})
		default:
			http.Error(w, "want ?scopes=directory or no scopes", http.StatusBadRequest)
		}
	})
	mux.HandleFunc("POST /_sandboxd/fail", func(w http.ResponseWriter, r *http.Request) {
		faults := map[string]sandbox.Fault{
			"rate_limited": sandbox.RateLimited, "error_in_200": sandbox.ErrorIn200,
			"internal_error": sandbox.InternalError, "garbage": sandbox.Garbage,
		}
		f, ok := faults[r.URL.Query().Get("fault")]
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if !ok || err != nil || n < 1 {
			http.Error(w, "want ?fault=rate_limited|error_in_200|internal_error|garbage&n=N", http.StatusBadRequest)
			return
		}
		sb.FailNext(n, f)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandboxd/clear", func(w http.ResponseWriter, r *http.Request) {
		sb.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandboxd/redirect-uri", func(w http.ResponseWriter, r *http.Request) {
		// ?uri=<a server's callback>, such as
		// http://127.0.0.1:8080/oauth/zoho/callback: one more redirect
		// URI the sign-in may send browsers to.
		u, err := url.Parse(r.URL.Query().Get("uri"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			http.Error(w, "want ?uri=<absolute http(s) callback URL of a server>", http.StatusBadRequest)
			return
		}
		mu.Lock()
		redirects = append(redirects, u.String())
		sb.SetRedirectURIs(redirects...)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandboxd/consent-user", func(w http.ResponseWriter, r *http.Request) {
		// The user who signs in and approves at the sandbox's Zoho consent
		// screen: ?id=<user id>, or ?id=primary for the primary user.
		id := r.URL.Query().Get("id")
		if id == "primary" {
			id = sb.PrimaryUserID()
		}
		if err := sb.SetConsentUser(id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandboxd/deny-consent", func(w http.ResponseWriter, r *http.Request) {
		// ?deny=true makes the person decline at the sandbox's Zoho
		// consent screen; ?deny=false approves again.
		deny, err := strconv.ParseBool(r.URL.Query().Get("deny"))
		if err != nil {
			http.Error(w, "want ?deny=true|false", http.StatusBadRequest)
			return
		}
		sb.SetDenyConsent(deny)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sandboxd/user-status", func(w http.ResponseWriter, r *http.Request) {
		// ?id=<user id>&status=active|disabled|deleted, as an admin
		// changing the user in Zoho's UI.
		q := r.URL.Query()
		switch q.Get("status") {
		case "active", "disabled", "deleted":
		default:
			http.Error(w, "want ?id=<user id>&status=active|disabled|deleted", http.StatusBadRequest)
			return
		}
		if err := sb.SetUserStatus(q.Get("id"), q.Get("status")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandboxd/data", func(w http.ResponseWriter, r *http.Request) {
		typ := r.URL.Query().Get("type")
		if typ == "" {
			typ = "AllUsers"
		}
		writeJSON(w, map[string]any{
			"org":             sb.OrgJSON(),
			"primary_user_id": sb.PrimaryUserID(),
			"user_ids":        sb.UserIDs(typ),
			"roles":           sb.Roles(),
			"profiles":        sb.Profiles(),
			"api_requests":    sb.APIRequestCount(),
			"refreshes":       sb.RefreshCount(),
		})
	})
	mux.HandleFunc("GET /_sandboxd/records", func(w http.ResponseWriter, r *http.Request) {
		// ?module=Contacts: the module's record ids, oldest first, and
		// the team pipelines (the layouts of Pipelines).
		ids := sb.RecordIDs(r.URL.Query().Get("module"))
		if ids == nil {
			http.Error(w, "want ?module= one of Contacts, Accounts, Pipelines, Products, Tasks, Events, Calls, Notes", http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]any{"ids": ids, "team_pipelines": sb.TeamPipelines()})
	})
	mux.HandleFunc("GET /_sandboxd/record", func(w http.ResponseWriter, r *http.Request) {
		// ?module=Contacts&id=…: the record as Zoho's get answers it.
		rec, ok := sb.Record(r.URL.Query().Get("module"), r.URL.Query().Get("id"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(rec)
	})
	mux.HandleFunc("GET /_sandboxd/user", func(w http.ResponseWriter, r *http.Request) {
		u, ok := sb.User(r.URL.Query().Get("id"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, u)
	})

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{
		"url": base, "client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
	}); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stdinClosed := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
