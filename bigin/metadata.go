package bigin

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
)

// Field is one field of a module, from Zoho's fields metadata.
type Field struct {
	ID      string
	APIName string // the name records and calls use, e.g. Last_Name
	// Label is Zoho's field_label (its display_label when there is none).
	Label string
	// DataType is Zoho's data_type: text, textarea, email, phone,
	// website, picklist, multiselectpicklist, date, datetime, integer,
	// currency, double, boolean, lookup, ownerlookup, bigint, ...
	DataType string
	// SystemMandatory fields must be given when a record is created.
	SystemMandatory bool
	ReadOnly        bool
	Custom          bool
	Visible         bool
	Length          int
	// PickList holds a picklist's values in Zoho's order.
	PickList []PickListValue
	// LookupModule is the module a lookup field points to (Zoho sends
	// it as "module":"Accounts" or "module":{"api_name":"Accounts"});
	// empty for other fields and for lookups to several modules.
	LookupModule string
}

// PickListValue is one value of a picklist.
type PickListValue struct {
	DisplayValue string
	// ActualValue is what records hold and calls send.
	ActualValue string
	Sequence    int
	// Maps are the values this one allows in dependent picklists (a
	// sub-pipeline's stages), by the dependent field's API name.
	Maps map[string][]string
}

// Layout is one layout of a module. A layout of Pipelines is one team
// pipeline: its id is the pipeline_id of ListRecordsParams.
type Layout struct {
	ID           string
	Name         string
	DisplayLabel string
	Status       string // "active", ...
	Visible      bool
	// Fields are the fields of every section, in order, with this
	// layout's picklist values.
	Fields []Field
}

// Field returns the layout's field with the API name.
func (l Layout) Field(apiName string) (Field, bool) {
	i := slices.IndexFunc(l.Fields, func(f Field) bool { return f.APIName == apiName })
	if i < 0 {
		return Field{}, false
	}
	return l.Fields[i], true
}

// Stages returns a team pipeline's stages in order: the actual values of
// the layout's Stage picklist.
func (l Layout) Stages() []string { return l.values("Stage") }

// SubPipeline is one sub-pipeline of a team pipeline and its stages.
type SubPipeline struct {
	Name string
	// Stages are the stages Zoho maps to the sub-pipeline, nil when the
	// layout does not map them (then Layout.Stages applies).
	Stages []string
}

// SubPipelines returns a team pipeline's sub-pipelines in order (the
// Sub_Pipeline picklist), each with its stages when Zoho maps them.
func (l Layout) SubPipelines() []SubPipeline {
	f, ok := l.Field("Sub_Pipeline")
	if !ok {
		return nil
	}
	out := make([]SubPipeline, 0, len(f.PickList))
	for _, v := range f.PickList {
		out = append(out, SubPipeline{Name: v.ActualValue, Stages: v.Maps["Stage"]})
	}
	return out
}

func (l Layout) values(apiName string) []string {
	f, ok := l.Field(apiName)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(f.PickList))
	for _, v := range f.PickList {
		out = append(out, v.ActualValue)
	}
	return out
}

// Fields returns a module's fields: GET /bigin/v2/settings/fields
// ?module=. For Pipelines, picklists such as Stage hold the values of
// every team pipeline; a layout's own are in Layouts.
func (c *Client) Fields(ctx context.Context, module string) ([]Field, error) {
	if err := checkMetaModule(module); err != nil {
		return nil, err
	}
	a, err := c.do(ctx, request{method: http.MethodGet, path: "/settings/fields", query: url.Values{"module": {module}}, shape: recordItems})
	if err != nil {
		return nil, err
	}
	var raw []rawField
	if a.top != nil {
		if err := a.field("fields", &raw); err != nil {
			return nil, err
		}
	}
	return fieldsOf(raw), nil
}

// Layouts returns a module's layouts: GET /bigin/v2/settings/layouts
// ?module=. Each layout of Pipelines is a team pipeline, with its
// sub-pipelines and stages in its Sub_Pipeline and Stage fields.
func (c *Client) Layouts(ctx context.Context, module string) ([]Layout, error) {
	if err := checkMetaModule(module); err != nil {
		return nil, err
	}
	a, err := c.do(ctx, request{method: http.MethodGet, path: "/settings/layouts", query: url.Values{"module": {module}}, shape: recordItems})
	if err != nil {
		return nil, err
	}
	if a.top == nil {
		return []Layout{}, nil
	}
	var raw []struct {
		ID           json.RawMessage `json:"id"`
		Name         string          `json:"name"`
		DisplayLabel string          `json:"display_label"`
		Status       string          `json:"status"`
		Visible      bool            `json:"visible"`
		Sections     []struct {
			Fields []rawField `json:"fields"`
		} `json:"sections"`
	}
	if err := a.field("layouts", &raw); err != nil {
		return nil, err
	}
	out := make([]Layout, 0, len(raw))
	for _, l := range raw {
		lay := Layout{ID: idString(l.ID), Name: l.Name, DisplayLabel: l.DisplayLabel, Status: l.Status, Visible: l.Visible}
		for _, s := range l.Sections {
			lay.Fields = append(lay.Fields, fieldsOf(s.Fields)...)
		}
		if lay.Fields == nil {
			lay.Fields = []Field{}
		}
		out = append(out, lay)
	}
	return out, nil
}

// checkMetaModule accepts the record modules and Notes.
func checkMetaModule(module string) error {
	if module == RelatedNotes {
		return nil
	}
	return checkModule(module)
}

// rawField is a field as Zoho's metadata sends it.
type rawField struct {
	ID              json.RawMessage `json:"id"`
	APIName         string          `json:"api_name"`
	FieldLabel      string          `json:"field_label"`
	DisplayLabel    string          `json:"display_label"`
	DataType        string          `json:"data_type"`
	SystemMandatory bool            `json:"system_mandatory"`
	ReadOnly        bool            `json:"read_only"`
	CustomField     bool            `json:"custom_field"`
	Visible         *bool           `json:"visible"`
	Length          int             `json:"length"`
	PickListValues  []struct {
		DisplayValue   string `json:"display_value"`
		ActualValue    string `json:"actual_value"`
		SequenceNumber int    `json:"sequence_number"`
		Maps           []struct {
			APIName        string `json:"api_name"`
			PickListValues []struct {
				ActualValue string `json:"actual_value"`
			} `json:"pick_list_values"`
		} `json:"maps"`
	} `json:"pick_list_values"`
	Lookup json.RawMessage `json:"lookup"`
}

// fieldsOf turns Zoho's field objects into Fields.
func fieldsOf(raw []rawField) []Field {
	out := make([]Field, 0, len(raw))
	for _, r := range raw {
		f := Field{
			ID: idString(r.ID), APIName: r.APIName, Label: cmp.Or(r.FieldLabel, r.DisplayLabel), DataType: r.DataType,
			SystemMandatory: r.SystemMandatory, ReadOnly: r.ReadOnly, Custom: r.CustomField,
			Visible: r.Visible == nil || *r.Visible, Length: r.Length, LookupModule: lookupModule(r.Lookup),
		}
		for _, v := range r.PickListValues {
			pv := PickListValue{DisplayValue: v.DisplayValue, ActualValue: cmp.Or(v.ActualValue, v.DisplayValue), Sequence: v.SequenceNumber}
			for _, m := range v.Maps {
				if pv.Maps == nil {
					pv.Maps = map[string][]string{}
				}
				vals := make([]string, 0, len(m.PickListValues))
				for _, mv := range m.PickListValues {
					vals = append(vals, mv.ActualValue)
				}
				pv.Maps[m.APIName] = vals
			}
			f.PickList = append(f.PickList, pv)
		}
		// Zoho numbers picklist values from 1; keep its order, and
		// its listing order among equal numbers.
		slices.SortStableFunc(f.PickList, func(a, b PickListValue) int { return cmp.Compare(a.Sequence, b.Sequence) })
		out = append(out, f)
	}
	return out
}

// lookupModule reads a lookup's module in either of Zoho's shapes:
// {"module":"Accounts"} (v2) or {"module":{"api_name":"Accounts"}}.
func lookupModule(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var l struct {
		Module json.RawMessage `json:"module"`
	}
	if json.Unmarshal(raw, &l) != nil || len(l.Module) == 0 {
		return ""
	}
	var name string
	if json.Unmarshal(l.Module, &name) == nil {
		return name
	}
	var obj struct {
		APIName string `json:"api_name"`
	}
	if json.Unmarshal(l.Module, &obj) == nil {
		return obj.APIName
	}
	return ""
}
