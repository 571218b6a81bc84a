package sandbox

import (
	"net/http"
	"time"
)

// fieldMeta is a field as GET /settings/fields answers it (CRM v2's keys;
// a lookup names its module as a string, as CRM v2 does, where v3 and
// later send {"api_name","id"}).
type fieldMeta struct {
	APIName         string          `json:"api_name"`
	FieldLabel      string          `json:"field_label"`
	DisplayLabel    string          `json:"display_label"`
	DataType        string          `json:"data_type"`
	JSONType        string          `json:"json_type"`
	SystemMandatory bool            `json:"system_mandatory"`
	ReadOnly        bool            `json:"read_only"`
	CustomField     bool            `json:"custom_field"`
	Visible         bool            `json:"visible"`
	Length          int             `json:"length"`
	PickListValues  []pickListValue `json:"pick_list_values"`
	Lookup          map[string]any  `json:"lookup"`
	ID              string          `json:"id"`
}

type pickListValue struct {
	DisplayValue   string         `json:"display_value"`
	ActualValue    string         `json:"actual_value"`
	SequenceNumber int            `json:"sequence_number"`
	Maps           []pickListMaps `json:"maps,omitempty"`
}

// pickListMaps are the values a picklist value allows in a dependent
// picklist: a sub-pipeline's stages. Where Zoho puts that map in a team
// pipeline's layout is UNVERIFIED; the sandbox uses CRM's dependent
// picklist shape.
type pickListMaps struct {
	APIName        string          `json:"api_name"`
	PickListValues []pickListValue `json:"pick_list_values"`
}

func jsonType(typ string) string {
	switch typ {
	case tCurrency:
		return "double"
	case tBoolean:
		return "boolean"
	case tLookup, tOwnerLookup, tBigint:
		return "jsonobject"
	}
	return "string"
}

func values(list []string) []pickListValue {
	out := make([]pickListValue, len(list))
	for i, v := range list {
		out[i] = pickListValue{DisplayValue: v, ActualValue: v, SequenceNumber: i + 1}
	}
	return out
}

// meta describes the module's fields; tp, when not nil, gives the
// Sub_Pipeline and Stage values of one team pipeline.
func (s *Sandbox) meta(mod *moduleDef, tp *teamPipelineDef) []fieldMeta {
	out := make([]fieldMeta, 0, len(mod.fields))
	for i := range mod.fields {
		f := &mod.fields[i]
		fm := fieldMeta{
			APIName: f.api, FieldLabel: f.label, DisplayLabel: f.label, DataType: f.typ, JSONType: jsonType(f.typ),
			SystemMandatory: f.mandatory, ReadOnly: f.readOnly, CustomField: f.custom, Visible: true, Length: f.length,
			PickListValues: []pickListValue{}, Lookup: map[string]any{}, ID: s.idOf(mod.seq*100 + i),
		}
		if f.typ == tPicklist {
			fm.PickListValues = values(f.options)
		}
		if f.lookup != "" {
			fm.Lookup = map[string]any{"display_label": schema[f.lookup].singular, "api_name": f.lookup, "module": f.lookup,
				"id": s.idOf(schema[f.lookup].seq)}
		}
		if tp != nil {
			switch f.api {
			case "Sub_Pipeline":
				fm.PickListValues = nil
				for k, sp := range tp.subs {
					fm.PickListValues = append(fm.PickListValues, pickListValue{DisplayValue: sp.name, ActualValue: sp.name, SequenceNumber: k + 1,
						Maps: []pickListMaps{{APIName: "Stage", PickListValues: values(sp.stages)}}})
				}
			case "Stage":
				fm.PickListValues = values(tp.stages())
			}
		}
		out = append(out, fm)
	}
	return out
}

// metaModule reads ?module= of a metadata call: a record module or Notes.
func metaModule(w http.ResponseWriter, r *http.Request) *moduleDef {
	name := r.URL.Query().Get("module")
	if name == "" {
		missingParam("module").write(w)
		return nil
	}
	mod := schema[name]
	if mod == nil {
		writeError(w, http.StatusBadRequest, "INVALID_MODULE", "the module name given seems to be invalid", nil)
	}
	return mod
}

// fieldsMeta serves GET /settings/fields?module=. A deal's Sub_Pipeline
// and Stage list the values of every team pipeline.
func (s *Sandbox) fieldsMeta(w http.ResponseWriter, r *http.Request, _ *recCall) {
	mod := metaModule(w, r)
	if mod == nil {
		return
	}
	s.mu.Lock()
	out := s.meta(mod, nil)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string][]fieldMeta{"fields": out})
}

// layout is one layout as GET /settings/layouts answers it.
type layout struct {
	CreatedTime  *string   `json:"created_time"`
	ModifiedTime string    `json:"modified_time"`
	Visible      bool      `json:"visible"`
	CreatedBy    *Ref      `json:"created_by"`
	ModifiedBy   Ref       `json:"modified_by"`
	Name         string    `json:"name"`
	DisplayLabel string    `json:"display_label"`
	Status       string    `json:"status"`
	ID           string    `json:"id"`
	Sections     []section `json:"sections"`
}

type section struct {
	DisplayLabel   string      `json:"display_label"`
	SequenceNumber int         `json:"sequence_number"`
	APIName        string      `json:"api_name"`
	Fields         []fieldMeta `json:"fields"`
}

// layoutsMeta serves GET /settings/layouts?module=: for Pipelines one
// layout per team pipeline (its id is the pipeline_id of list calls),
// for the other modules one Standard layout.
func (s *Sandbox) layoutsMeta(w http.ResponseWriter, r *http.Request, _ *recCall) {
	mod := metaModule(w, r)
	if mod == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	owner := s.byID[s.primary]
	by := Ref{Name: owner.FullName, ID: owner.ID}
	modified := stampIn(time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC), s.zone())
	mk := func(name, id string, tp *teamPipelineDef) layout {
		return layout{ModifiedTime: modified, Visible: true, ModifiedBy: by, Name: name, DisplayLabel: name, Status: "active", ID: id,
			Sections: []section{{DisplayLabel: mod.singular + " Information", SequenceNumber: 1, APIName: mod.singular + " Information", Fields: s.meta(mod, tp)}}}
	}
	var out []layout
	if mod.name == Pipelines {
		for k := range teamPipelineDefs {
			tp := &teamPipelineDefs[k]
			out = append(out, mk(tp.name, s.idOf(tp.seq), tp))
		}
	} else {
		out = append(out, mk("Standard", s.idOf(mod.seq*100+99), nil))
	}
	writeJSON(w, http.StatusOK, map[string][]layout{"layouts": out})
}
