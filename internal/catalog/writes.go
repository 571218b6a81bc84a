package catalog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

// writeEntry is one record's outcome of a write, as the tools return it.
type writeEntry struct {
	Index   int    `json:"index"`
	ID      string `json:"id,omitempty"`
	Status  string `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// ExistingID is, for DUPLICATE_DATA, the record that already holds
	// the value.
	ExistingID string `json:"existing_id,omitempty"`
}

// writesFailed is a write whose every record failed: a tool error that
// still gives each record's outcome.
type writesFailed struct {
	entries []writeEntry
	result  json.RawMessage
}

func (w *writesFailed) Error() string {
	return fmt.Sprintf("every record of the write failed (first: %s)", w.entries[0].Code)
}

// toolError names the failure by the first record's code, as Zoho's own
// error for a single record would.
func (w *writesFailed) toolError() *ToolError {
	first := w.entries[0]
	what := "the record"
	if len(w.entries) > 1 {
		what = fmt.Sprintf("any of the %d records", len(w.entries))
	}
	return &ToolError{Status: http.StatusBadRequest, Code: first.Code,
		Message: fmt.Sprintf("Zoho Bigin did not write %s; result lists each record's code, message and field", what)}
}

// hint says what to do about the records' codes.
func (w *writesFailed) hint(e *Entry) string {
	var hints []string
	seen := map[string]bool{}
	for _, en := range w.entries {
		if seen[en.Code] {
			continue
		}
		seen[en.Code] = true
		switch en.Code {
		case "MANDATORY_NOT_FOUND":
			hints = append(hints, "MANDATORY_NOT_FOUND: give the field it names (describe_zohobigin_module marks the required fields)")
		case "INVALID_DATA":
			hints = append(hints, "INVALID_DATA: correct the value of the field it names (describe_zohobigin_module gives each field's type and picklist values), or the record id")
		case "DUPLICATE_DATA":
			hints = append(hints, "DUPLICATE_DATA: a record already holds that value; existing_id is that record, update it with update_zohobigin_records instead")
		}
	}
	if len(hints) == 0 {
		return "Correct the records as Zoho's messages say and call " + e.Name + " again."
	}
	return strings.Join(hints, "; ") + "."
}

// summary lists the records' outcomes for the text a model reads.
func (w *writesFailed) summary() string {
	var b strings.Builder
	for i, en := range w.entries {
		if i == 10 {
			fmt.Fprintf(&b, " …and %d more.", len(w.entries)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "Record %d: %s %s", en.Index, en.Code, en.Message)
		if en.Field != "" {
			b.WriteString(" (field " + en.Field + ")")
		}
		if en.ExistingID != "" {
			b.WriteString("; existing record " + en.ExistingID)
		}
		b.WriteByte('.')
	}
	return b.String()
}

// writeResult encodes a write's outcomes, one per input record in input
// order, as {"result":[…]}; when every record failed it returns a
// *writesFailed instead.
func writeResult(results []bigin.WriteResult) ([]byte, error) {
	entries := make([]writeEntry, len(results))
	failed := 0
	for i, r := range results {
		entries[i] = writeEntry{Index: r.Index, ID: r.ID, Status: r.Status, Code: r.Code, Message: r.Message, Field: r.Field, ExistingID: r.ExistingID}
		if !r.OK() {
			failed++
			entries[i].Status = "error"
			if r.Code == "" {
				entries[i].Code = bigin.CodeInvalidResponse
			}
		}
	}
	body, err := json.Marshal(struct {
		Result []writeEntry `json:"result"`
	}{entries})
	if err != nil {
		return nil, err
	}
	if failed == len(entries) && failed > 0 {
		return nil, &writesFailed{entries: entries, result: body[len(`{"result":`) : len(body)-1]}
	}
	return body, nil
}

// writeOutput is the output schema of the write tools.
func writeOutput() map[string]any {
	return outputSchema(map[string]any{
		"type":        "array",
		"description": "One entry per input record, in input order. When every record failed, the call is an error and this is given beside error.",
		"items": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"index":       map[string]any{"type": "integer", "description": "The record's position in the input, from 0."},
				"id":          map[string]any{"type": "string", "description": "The record's id: the new one of a created record or note, the one sent for an update or delete."},
				"status":      map[string]any{"type": "string", "enum": []string{"success", "error"}},
				"code":        map[string]any{"type": "string", "description": "Zoho's code: SUCCESS, MANDATORY_NOT_FOUND, INVALID_DATA, DUPLICATE_DATA, …"},
				"message":     map[string]any{"type": "string"},
				"field":       map[string]any{"type": "string", "description": "The field Zoho names: the missing, invalid or duplicated one."},
				"existing_id": map[string]any{"type": "string", "description": "For DUPLICATE_DATA: the record that already holds the value; update it instead."},
			},
			"required": []string{"index", "status", "code", "message"},
		},
	})
}
