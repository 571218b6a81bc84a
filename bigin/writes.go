package bigin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// WriteResult is Zoho's outcome for one record of an insert, update,
// delete or note: one per input record, in input order.
type WriteResult struct {
	// Index is the record's position in the input, from 0.
	Index int
	// ID is the record's id: the one Zoho gave a created record or note,
	// or, for an update or a delete, the id sent. Empty when a create
	// failed.
	ID string
	// Status is Zoho's "success" or "error".
	Status string
	// Code is Zoho's code: SUCCESS, MANDATORY_NOT_FOUND, INVALID_DATA,
	// DUPLICATE_DATA, ...
	Code    string
	Message string
	// Field is the field Zoho names in details.api_name (the missing,
	// invalid or duplicated one), if any.
	Field string
	// ExistingID is, for DUPLICATE_DATA, the id of the record that
	// already holds the value (details.duplicate_record.id in Zoho's
	// newer answers, details.id in older ones), so a caller can update
	// that record instead.
	ExistingID string
	// Details is Zoho's details object as sent (dropped when larger
	// than 4 KiB).
	Details json.RawMessage
}

// OK reports whether Zoho wrote the record.
func (r WriteResult) OK() bool { return r.Status == "success" }

// CreateRecords inserts 1 to MaxWriteRecords records into a module:
// POST /bigin/v2/{module} with {"data": records}. Each record is a JSON
// object of field API names to values, sent as given (a lookup such as
// Account_Name or Owner takes {"id": "…"}). The answer has one
// WriteResult per record whatever Zoho's status (201 or 202 when all were
// written, 207 when some failed, 400 when all did); an error means the
// call as a whole failed (a Zoho error at the top level, a network
// error). It is never retried: a create that timed out may have happened.
func (c *Client) CreateRecords(ctx context.Context, module string, records []json.RawMessage) ([]WriteResult, error) {
	if err := checkModule(module); err != nil {
		return nil, err
	}
	body, _, err := writeBody(records, false)
	if err != nil {
		return nil, err
	}
	return c.write(ctx, request{method: http.MethodPost, path: "/" + module, body: body, shape: writeOutcomes}, len(records), nil)
}

// UpdateRecords updates 1 to MaxWriteRecords records of a module:
// PUT /bigin/v2/{module} with {"data": records}, each holding its "id"
// and only the fields to change. Results as CreateRecords (an unknown id
// is that record's INVALID_DATA); never retried.
func (c *Client) UpdateRecords(ctx context.Context, module string, records []json.RawMessage) ([]WriteResult, error) {
	if err := checkModule(module); err != nil {
		return nil, err
	}
	body, sent, err := writeBody(records, true)
	if err != nil {
		return nil, err
	}
	return c.write(ctx, request{method: http.MethodPut, path: "/" + module, body: body, shape: writeOutcomes}, len(records), sent)
}

// DeleteRecords deletes 1 to MaxWriteRecords records of a module by id:
// DELETE /bigin/v2/{module}?ids=a,b. One WriteResult per id, in order (an
// unknown id is its INVALID_DATA); never retried.
func (c *Client) DeleteRecords(ctx context.Context, module string, ids []string) ([]WriteResult, error) {
	if err := checkModule(module); err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > MaxWriteRecords {
		return nil, fmt.Errorf("bigin: %w: a delete takes 1 to %d ids, got %d", ErrInvalidArgument, MaxWriteRecords, len(ids))
	}
	for _, id := range ids {
		if err := checkRecordID("record", id); err != nil {
			return nil, err
		}
	}
	q := url.Values{"ids": {strings.Join(ids, ",")}}
	return c.write(ctx, request{method: http.MethodDelete, path: "/" + module, query: q, shape: writeOutcomes}, len(ids), ids)
}

// Note is a note to add to a record.
type Note struct {
	Title   string // optional
	Content string // required
}

// AddNote adds a note to a record: POST /bigin/v2/{module}/{id}/Notes
// with {"data":[{"Note_Title","Note_Content"}]}. Only the modules with a
// Notes related list take notes (see RelatedLists). The result's ID is
// the note's. Never retried.
func (c *Client) AddNote(ctx context.Context, module, recordID string, n Note) (WriteResult, error) {
	if err := checkModule(module); err != nil {
		return WriteResult{}, err
	}
	if RelatedLists(module) == nil {
		return WriteResult{}, fmt.Errorf("bigin: %w: %s records take no notes; %s, %s, %s and %s do", ErrInvalidArgument,
			module, ModuleContacts, ModuleAccounts, ModulePipelines, ModuleProducts)
	}
	if err := checkRecordID("record", recordID); err != nil {
		return WriteResult{}, err
	}
	if strings.TrimSpace(n.Content) == "" {
		return WriteResult{}, fmt.Errorf("bigin: %w: a note needs content", ErrInvalidArgument)
	}
	if len(n.Content) > maxNoteLen || len(n.Title) > maxNoteLen {
		return WriteResult{}, fmt.Errorf("bigin: %w: a note's title and content are at most %d bytes each", ErrInvalidArgument, maxNoteLen)
	}
	type note struct {
		Title   string `json:"Note_Title,omitempty"`
		Content string `json:"Note_Content"`
	}
	body, err := json.Marshal(struct {
		Data []note `json:"data"`
	}{[]note{{n.Title, n.Content}}})
	if err != nil {
		return WriteResult{}, fmt.Errorf("bigin: encode the note: %w", err)
	}
	res, err := c.write(ctx, request{method: http.MethodPost, path: "/" + module + "/" + recordID + "/" + RelatedNotes, body: body, shape: writeOutcomes}, 1, nil)
	if err != nil {
		return WriteResult{}, err
	}
	return res[0], nil
}

// writeBody checks 1 to MaxWriteRecords records, each a JSON object (with
// a digits "id" when withID), and returns {"data":[…]} built from their
// bytes, and the ids.
func writeBody(records []json.RawMessage, withID bool) ([]byte, []string, error) {
	if len(records) == 0 || len(records) > MaxWriteRecords {
		return nil, nil, fmt.Errorf("bigin: %w: a write takes 1 to %d records, got %d", ErrInvalidArgument, MaxWriteRecords, len(records))
	}
	var ids []string
	if withID {
		ids = make([]string, len(records))
	}
	size := len(`{"data":[]}`) + len(records)
	for _, r := range records {
		size += len(r)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"data":[`...)
	for i, r := range records {
		top, _, object, valid := scanAnswer(r)
		if !object || !valid {
			return nil, nil, fmt.Errorf("bigin: %w: record %d is not a JSON object", ErrInvalidArgument, i)
		}
		if withID {
			var id string
			if raw, ok := top["id"]; !ok || json.Unmarshal(raw, &id) != nil {
				return nil, nil, fmt.Errorf("bigin: %w: record %d has no \"id\" string; an update names each record by its id", ErrInvalidArgument, i)
			}
			if err := checkRecordID("record", id); err != nil {
				return nil, nil, fmt.Errorf("record %d: %w", i, err)
			}
			ids[i] = id
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, bytes.TrimSpace(r)...)
	}
	b = append(b, "]}"...)
	return b, ids, nil
}

// write sends a write and reads its per-record outcomes; sent are the ids
// of an update's or a delete's records (nil for a create).
func (c *Client) write(ctx context.Context, req request, n int, sent []string) ([]WriteResult, error) {
	a, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if a.top == nil {
		return nil, &APIError{Status: a.status, Code: CodeInvalidResponse, Message: "Zoho answered the write with no body, so what it wrote is not known"}
	}
	items, err := a.records("data")
	if err != nil {
		return nil, err
	}
	out := make([]WriteResult, n)
	for i := range out {
		r := &out[i]
		r.Index = i
		if sent != nil {
			r.ID = sent[i]
		}
		if i >= len(items) {
			r.Status, r.Code = "error", CodeInvalidResponse
			r.Message = "Zoho's answer has no entry for this record, so whether it was written is not known"
			continue
		}
		readOutcome(items[i], r)
	}
	return out, nil
}

// outcome is one item of a write's "data" array.
type outcome struct {
	Code    string          `json:"code"`
	Details json.RawMessage `json:"details"`
	Message string          `json:"message"`
	Status  string          `json:"status"`
}

// outcomeDetails holds the keys of an outcome's details the client reads.
type outcomeDetails struct {
	ID              json.RawMessage `json:"id"`
	APIName         string          `json:"api_name"`
	DuplicateRecord *struct {
		ID json.RawMessage `json:"id"`
	} `json:"duplicate_record"`
}

// readOutcome fills r from Zoho's item for it.
func readOutcome(item json.RawMessage, r *WriteResult) {
	var o outcome
	if json.Unmarshal(item, &o) != nil || o.Status == "" {
		r.Status, r.Code = "error", CodeInvalidResponse
		r.Message = "Zoho's entry for this record is not an outcome, so whether it was written is not known"
		return
	}
	r.Status, r.Code, r.Message = clip(o.Status), clip(o.Code), clip(o.Message)
	if len(o.Details) <= maxDetails && string(o.Details) != "null" {
		r.Details = o.Details
	}
	var d outcomeDetails
	if len(o.Details) == 0 || json.Unmarshal(o.Details, &d) != nil {
		return
	}
	r.Field = clip(d.APIName)
	switch {
	case r.OK():
		if id := idString(d.ID); id != "" {
			r.ID = id
		}
	case r.Code == "DUPLICATE_DATA":
		// Zoho's newer answers name the existing record in
		// duplicate_record; older ones put its id in details.id.
		if d.DuplicateRecord != nil {
			r.ExistingID = idString(d.DuplicateRecord.ID)
		}
		if r.ExistingID == "" {
			r.ExistingID = idString(d.ID)
		}
	}
}

// idString reads an id sent as a JSON string or number; "" when it is
// neither or not digits.
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return ""
		}
		s = n.String()
	}
	if checkRecordID("record", s) != nil {
		return ""
	}
	return s
}
