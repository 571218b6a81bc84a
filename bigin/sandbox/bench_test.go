package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// BenchmarkListUsers is what the fake Zoho spends on one page of 100
// users: in load runs it shares the CPUs with the server under test.
func BenchmarkListUsers(b *testing.B) {
	sb := sandbox.New(sandbox.Options{Location: "us"})
	ts := httptest.NewServer(sb)
	defer ts.Close()
	sb.SetBaseURL(ts.URL)
	e := &env{sb: sb, ts: ts}
	at := e.accessToken(b, sb.IssueRefreshToken())
	req := httptest.NewRequest(http.MethodGet, "/bigin/v2/users?type=AllUsers&page=1&per_page=100", nil)
	req.Header.Set("Authorization", "Zoho-oauthtoken "+at)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkSeedRecords is what a sandbox's first record call costs: the
// records are seeded then (tests make many sandboxes).
func BenchmarkSeedRecords(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sb := sandbox.New(sandbox.Options{Location: "us"})
		if len(sb.RecordIDs(sandbox.Contacts)) == 0 {
			b.Fatal("no contacts")
		}
	}
}

// BenchmarkListContacts is what the fake Zoho spends on one page of 50
// contacts with a short field list, as a record list tool asks for it.
func BenchmarkListContacts(b *testing.B) {
	sb := sandbox.New(sandbox.Options{Location: "us"})
	ts := httptest.NewServer(sb)
	defer ts.Close()
	sb.SetBaseURL(ts.URL)
	e := &env{sb: sb, ts: ts}
	at := e.accessToken(b, sb.IssueRefreshToken())
	req := httptest.NewRequest(http.MethodGet, "/bigin/v2/Contacts?fields=First_Name,Last_Name,Email,Phone,Account_Name,Owner&page=1&per_page=50", nil)
	req.Header.Set("Authorization", "Zoho-oauthtoken "+at)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
