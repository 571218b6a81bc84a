package catalog

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuotaHeaders(t *testing.T) {
	tests := []struct {
		name string
		q    *Quota
		want http.Header
	}{
		{"none", nil, http.Header{}},
		{"allowed", &Quota{Limit: 10, Remaining: 3, Reset: 2500 * time.Millisecond},
			http.Header{"Ratelimit-Limit": {"10"}, "Ratelimit-Remaining": {"3"}, "Ratelimit-Reset": {"3"}}},
		{"refused", &Quota{Limit: 10, Remaining: 0, Reset: time.Minute, RetryAfter: 5900 * time.Millisecond},
			http.Header{"Ratelimit-Limit": {"10"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"60"}, "Retry-After": {"6"}}},
		{"refused for under a second waits a second", &Quota{Limit: 1, RetryAfter: time.Millisecond},
			http.Header{"Ratelimit-Limit": {"1"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"0"}, "Retry-After": {"1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			tt.q.SetHeaders(h)
			assert.Equal(t, tt.want, h)
			assert.Equal(t, tt.q != nil && tt.q.RetryAfter > 0, tt.q.Refused())
		})
	}
}

func TestAuditArgsKeepIDsEnumsAndNumbers(t *testing.T) {
	cur := "opaque"
	assert.Nil(t, operationArgs.audit(&Args{}))
	assert.Equal(t, map[string]any{"id": "42", "type": "AdminUsers", "limit": 5, "fields": []string{"id"}, "next_cursor": true},
		operationArgs.audit(&Args{ID: "42", Type: "AdminUsers", Limit: 5, Fields: []string{"id"}, NextCursor: &cur}))
}

// What an audit entry keeps of each tool's arguments: the module, ids,
// enums, numbers and field names; never search terms, queries, note
// text or record contents, of which it keeps only a count or a flag.
func TestAuditKeepsNoRecordContents(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	tests := []struct {
		tool, args string
		want       map[string]any
	}{
		{"search_zohobigin_records", `{"module":"Contacts","email":"secret@example.com","fields":["Email"]}`,
			map[string]any{"module": "Contacts", "fields": []string{"Email"}}},
		{"search_zohobigin_records", `{"module":"Contacts","criteria":"(Last_Name:equals:Secret)","limit":5,"next_cursor":"c1.x"}`,
			map[string]any{"module": "Contacts", "limit": 5, "next_cursor": true}},
		{"query_zohobigin_records", `{"select_query":"select Email from Contacts where Email = 'secret@example.com'"}`, nil},
		{"create_zohobigin_records", `{"module":"Contacts","records":[{"Last_Name":"Secret"},{"Last_Name":"Other"}],"idempotency_key":"k-secret"}`,
			map[string]any{"module": "Contacts", "records": 2, "idempotency_key": true}},
		{"update_zohobigin_records", `{"module":"Pipelines","records":[{"id":"1","Stage":"Closed Won"}]}`,
			map[string]any{"module": "Pipelines", "records": 1}},
		{"delete_zohobigin_records_by_ids", `{"module":"Tasks","ids":["1","2"]}`, map[string]any{"module": "Tasks", "ids": []string{"1", "2"}}},
		{"add_zohobigin_note", `{"module":"Pipelines","record_id":"9","content":"secret terms","title":"secret"}`,
			map[string]any{"module": "Pipelines", "record_id": "9"}},
		{"list_zohobigin_related_records", `{"module":"Contacts","id":"9","related":"Notes"}`,
			map[string]any{"module": "Contacts", "id": "9", "related": "Notes"}},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			e, ok := cat.Lookup(tt.tool)
			require.True(t, ok)
			args, err := e.Decode([]byte(tt.args))
			require.NoError(t, err)
			got := e.args.audit(args)
			if tt.want == nil {
				assert.Nil(t, got)
			} else {
				assert.Equal(t, tt.want, got)
			}
			b, _ := json.Marshal(got)
			assert.NotContains(t, string(b), "ecret", "audit args keep no free text")
		})
	}
}
