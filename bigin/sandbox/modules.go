package sandbox

import (
	"slices"
)

// The record modules' API names (Bigin's UI calls Accounts "Companies"
// and Pipelines "Deals"), and Notes.
const (
	Contacts  = "Contacts"
	Accounts  = "Accounts"
	Pipelines = "Pipelines"
	Products  = "Products"
	Tasks     = "Tasks"
	Events    = "Events"
	Calls     = "Calls"
	Notes     = "Notes"
)

// Modules returns the seven record modules, Contacts first.
func Modules() []string {
	return []string{Contacts, Accounts, Pipelines, Products, Tasks, Events, Calls}
}

// Field data types, Zoho's data_type values.
const (
	tText        = "text"
	tTextarea    = "textarea"
	tEmail       = "email"
	tPhone       = "phone"
	tWebsite     = "website"
	tPicklist    = "picklist"
	tDate        = "date"
	tDatetime    = "datetime"
	tCurrency    = "currency"
	tBoolean     = "boolean"
	tLookup      = "lookup"
	tOwnerLookup = "ownerlookup"
	// tBigint is what Zoho's metadata calls a deal's Pipeline field,
	// although records hold it as a {"name","id"} reference to a layout.
	tBigint = "bigint"
)

// fieldDef is one field of a module.
type fieldDef struct {
	api, label, typ string
	mandatory       bool // system mandatory: required on create
	readOnly        bool // set by Zoho only; ignored in writes
	custom          bool
	unique          bool // a second record with the value is DUPLICATE_DATA
	length          int
	options         []string // picklist values, in order
	// lookup is the module a lookup points to ("" for a lookup to one of
	// several modules, named by the record's $se_module).
	lookup string
}

// textual reports whether the field holds a string.
func (f *fieldDef) textual() bool {
	switch f.typ {
	case tText, tTextarea, tEmail, tPhone, tWebsite, tPicklist:
		return true
	}
	return false
}

// ordered reports whether the field's values compare as numbers or
// instants (greater_than, between, <, …).
func (f *fieldDef) ordered() bool {
	switch f.typ {
	case tCurrency, tDate, tDatetime:
		return true
	}
	return false
}

// reference reports whether the field holds a {"name","id"} reference.
func (f *fieldDef) reference() bool {
	return f.typ == tLookup || f.typ == tOwnerLookup || f.typ == tBigint
}

// moduleDef is one module's schema.
type moduleDef struct {
	name      string
	singular  string
	seq       int    // its id's sequence number
	nameField string // the field that names a record in lookups
	fields    []fieldDef
	index     map[string]int
	related   []string // related lists under a record, Notes first
	// seField is the lookup whose module the record's $se_module names:
	// an activity's Related_To, a note's Parent_Id.
	seField string
}

// field returns the field with the API name, nil when there is none.
// "id" is not a field of the schema.
func (m *moduleDef) field(api string) *fieldDef {
	i, ok := m.index[api]
	if !ok {
		return nil
	}
	return &m.fields[i]
}

// Fields every module has, set by Zoho.
func systemFields() []fieldDef {
	return []fieldDef{
		{api: "Created_By", label: "Created By", typ: tOwnerLookup, readOnly: true},
		{api: "Modified_By", label: "Modified By", typ: tOwnerLookup, readOnly: true},
		{api: "Created_Time", label: "Created Time", typ: tDatetime, readOnly: true},
		{api: "Modified_Time", label: "Modified Time", typ: tDatetime, readOnly: true},
	}
}

func text(api, label string, length int) fieldDef {
	return fieldDef{api: api, label: label, typ: tText, length: length}
}

func owner(label string) fieldDef {
	return fieldDef{api: "Owner", label: label, typ: tOwnerLookup}
}

func picklist(api, label string, options ...string) fieldDef {
	return fieldDef{api: api, label: label, typ: tPicklist, options: options}
}

func lookup(api, label, module string) fieldDef {
	return fieldDef{api: api, label: label, typ: tLookup, lookup: module}
}

func description() fieldDef {
	return fieldDef{api: "Description", label: "Description", typ: tTextarea, length: 32000}
}

func relatedTo() fieldDef {
	return fieldDef{api: "Related_To", label: "Related To", typ: tLookup}
}

// Activity statuses and types.
var (
	taskStatuses   = []string{"Not Started", "Deferred", "In Progress", "Completed", "Waiting for input"}
	taskPriorities = []string{"High", "Highest", "Low", "Lowest", "Normal"}
	callTypes      = []string{"Outbound", "Inbound", "Missed"}
	callPurposes   = []string{"Prospecting", "Administrative", "Negotiation", "Demo", "Project", "Desk"}
	productCats    = []string{"Hardware", "Software", "Services", "Subscriptions"}
	customerTiers  = []string{"Bronze", "Silver", "Gold", "Platinum"}
	industries     = []string{"Retail", "Manufacturing", "Healthcare", "Education", "Logistics", "Hospitality", "Technology", "Finance"}
)

// schema holds the modules' schemas, the same for every sandbox (ids are
// made from the org's prefix when answered). Field names and types are
// those Zoho's docs and shipped integrations show; the set of fields of
// a standard Bigin org is not documented in full. Activities point at
// their contact, company or deal with Related_To plus $se_module, as
// CRM's activities do with What_Id (UNVERIFIED for Bigin). Stage and
// Sub_Pipeline options are filled from the team pipelines.
var schema = buildSchema()

func buildSchema() map[string]*moduleDef {
	mods := []*moduleDef{
		{name: Contacts, singular: "Contact", seq: 2800011, nameField: "Full_Name",
			related: []string{Notes, Pipelines, Products, Tasks, Events, Calls},
			fields: []fieldDef{
				owner("Contact Owner"),
				text("First_Name", "First Name", 40),
				{api: "Last_Name", label: "Last Name", typ: tText, length: 80, mandatory: true},
				{api: "Full_Name", label: "Full Name", typ: tText, length: 120, readOnly: true},
				lookup("Account_Name", "Company Name", Accounts),
				{api: "Email", label: "Email", typ: tEmail, length: 100, unique: true},
				{api: "Phone", label: "Phone", typ: tPhone, length: 30},
				{api: "Mobile", label: "Mobile", typ: tPhone, length: 30},
				text("Title", "Title", 100),
				text("Mailing_Street", "Mailing Street", 250),
				text("Mailing_City", "Mailing City", 100),
				text("Mailing_State", "Mailing State", 100),
				text("Mailing_Zip", "Mailing Zip", 30),
				text("Mailing_Country", "Mailing Country", 100),
				{api: "Email_Opt_Out", label: "Email Opt Out", typ: tBoolean},
				{api: "Customer_Tier", label: "Customer Tier", typ: tPicklist, options: customerTiers, custom: true},
				description(),
				{api: "Last_Activity_Time", label: "Last Activity Time", typ: tDatetime, readOnly: true},
			}},
		{name: Accounts, singular: "Company", seq: 2800013, nameField: "Account_Name",
			related: []string{Notes, Contacts, Pipelines, Products, Tasks, Events, Calls},
			fields: []fieldDef{
				owner("Company Owner"),
				{api: "Account_Name", label: "Company Name", typ: tText, length: 200, mandatory: true},
				{api: "Phone", label: "Phone", typ: tPhone, length: 30},
				{api: "Website", label: "Website", typ: tWebsite, length: 255},
				{api: "Industry", label: "Industry", typ: tPicklist, options: industries, custom: true},
				text("Billing_Street", "Billing Street", 250),
				text("Billing_City", "Billing City", 100),
				text("Billing_State", "Billing State", 100),
				text("Billing_Code", "Billing Code", 30),
				text("Billing_Country", "Billing Country", 100),
				description(),
			}},
		{name: Pipelines, singular: "Deal", seq: 2800015, nameField: "Deal_Name",
			related: []string{Notes, Contacts, Products, Tasks, Events, Calls},
			fields: []fieldDef{
				owner("Deal Owner"),
				{api: "Deal_Name", label: "Deal Name", typ: tText, length: 120, mandatory: true},
				{api: "Pipeline", label: "Pipeline", typ: tBigint},
				{api: "Sub_Pipeline", label: "Sub-Pipeline", typ: tPicklist, mandatory: true},
				{api: "Stage", label: "Stage", typ: tPicklist, mandatory: true},
				{api: "Amount", label: "Amount", typ: tCurrency, length: 16},
				{api: "Closing_Date", label: "Closing Date", typ: tDate},
				lookup("Account_Name", "Company Name", Accounts),
				lookup("Contact_Name", "Contact Name", Contacts),
				description(),
				{api: "Last_Activity_Time", label: "Last Activity Time", typ: tDatetime, readOnly: true},
			}},
		{name: Products, singular: "Product", seq: 2800017, nameField: "Product_Name",
			related: []string{Notes, Contacts, Accounts, Pipelines},
			fields: []fieldDef{
				owner("Product Owner"),
				{api: "Product_Name", label: "Product Name", typ: tText, length: 120, mandatory: true},
				text("Product_Code", "Product Code", 40),
				{api: "Unit_Price", label: "Unit Price", typ: tCurrency, length: 16},
				picklist("Product_Category", "Product Category", productCats...),
				{api: "Product_Active", label: "Product Active", typ: tBoolean},
				description(),
			}},
		{name: Tasks, singular: "Task", seq: 2800019, nameField: "Subject", seField: "Related_To",
			fields: []fieldDef{
				owner("Task Owner"),
				{api: "Subject", label: "Subject", typ: tText, length: 255, mandatory: true},
				{api: "Due_Date", label: "Due Date", typ: tDate},
				picklist("Status", "Status", taskStatuses...),
				picklist("Priority", "Priority", taskPriorities...),
				relatedTo(),
				lookup("Contact_Name", "Contact Name", Contacts),
				description(),
			}},
		{name: Events, singular: "Event", seq: 2800021, nameField: "Event_Title", seField: "Related_To",
			fields: []fieldDef{
				owner("Host"),
				{api: "Event_Title", label: "Title", typ: tText, length: 255, mandatory: true},
				{api: "Start_DateTime", label: "From", typ: tDatetime, mandatory: true},
				{api: "End_DateTime", label: "To", typ: tDatetime, mandatory: true},
				{api: "All_day", label: "All day", typ: tBoolean},
				text("Venue", "Location", 255),
				relatedTo(),
				description(),
			}},
		{name: Calls, singular: "Call", seq: 2800023, nameField: "Subject", seField: "Related_To",
			fields: []fieldDef{
				owner("Call Owner"),
				{api: "Subject", label: "Subject", typ: tText, length: 255, mandatory: true},
				{api: "Call_Type", label: "Call Type", typ: tPicklist, options: callTypes, mandatory: true},
				{api: "Call_Start_Time", label: "Call Start Time", typ: tDatetime, mandatory: true},
				{api: "Call_Duration", label: "Call Duration", typ: tText, length: 10, mandatory: true},
				picklist("Call_Purpose", "Call Purpose", callPurposes...),
				relatedTo(),
				lookup("Contact_Name", "Contact Name", Contacts),
				description(),
			}},
		{name: Notes, singular: "Note", seq: 2800025, nameField: "Note_Title", seField: "Parent_Id",
			fields: []fieldDef{
				owner("Note Owner"),
				text("Note_Title", "Note Title", 255),
				{api: "Note_Content", label: "Note Content", typ: tTextarea, length: 32000, mandatory: true},
				{api: "Parent_Id", label: "Parent ID", typ: tLookup},
			}},
	}
	out := map[string]*moduleDef{}
	for _, m := range mods {
		m.fields = append(m.fields, systemFields()...)
		m.index = map[string]int{}
		for i, f := range m.fields {
			m.index[f.api] = i
		}
		out[m.name] = m
	}
	// Stage and Sub_Pipeline list every team pipeline's values.
	deals := out[Pipelines]
	var subs, stages []string
	for _, tp := range teamPipelineDefs {
		for _, sp := range tp.subs {
			subs = append(subs, sp.name)
			for _, st := range sp.stages {
				if !slices.Contains(stages, st) {
					stages = append(stages, st)
				}
			}
		}
	}
	deals.field("Sub_Pipeline").options = subs
	deals.field("Stage").options = stages
	return out
}

// moduleOf returns a record module's schema (not Notes), nil when name is
// not one.
func moduleOf(name string) *moduleDef {
	if name == Notes {
		return nil
	}
	return schema[name]
}

// teamPipelineDef is one team pipeline: a layout of Pipelines with its
// sub-pipelines, each with its stages.
type teamPipelineDef struct {
	name string
	seq  int
	subs []subPipelineDef
}

type subPipelineDef struct {
	name   string
	stages []string
}

// teamPipelineDefs are the seeded org's two team pipelines. A team
// pipeline's default sub-pipeline is "<Name> Standard".
var teamPipelineDefs = []teamPipelineDef{
	{name: "Sales Pipeline", seq: 2900001, subs: []subPipelineDef{
		{"Sales Pipeline Standard", []string{"Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}},
		{"Enterprise Deals", []string{"Discovery", "Solution Design", "Proposal/Price Quote", "Legal Review", "Closed Won", "Closed Lost"}},
	}},
	{name: "Partner Onboarding", seq: 2900003, subs: []subPipelineDef{
		{"Partner Onboarding Standard", []string{"Application", "Due Diligence", "Contract Sent", "Onboarding", "Live", "Dropped"}},
		{"Reseller Renewals", []string{"Renewal Due", "Quote Sent", "Renewed", "Churned"}},
	}},
}

// stagesOf returns a team pipeline's stages in order, across its
// sub-pipelines.
func (tp *teamPipelineDef) stages() []string {
	var out []string
	for _, sp := range tp.subs {
		for _, st := range sp.stages {
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
	}
	return out
}

// TeamPipeline is one team pipeline of the seeded org, for tests.
type TeamPipeline struct {
	ID           string
	Name         string
	SubPipelines []SubPipeline
}

// SubPipeline is a sub-pipeline and its stages, in order.
type SubPipeline struct {
	Name   string
	Stages []string
}

// TeamPipelines returns the seeded org's team pipelines (the layouts of
// Pipelines).
func (s *Sandbox) TeamPipelines() []TeamPipeline {
	out := make([]TeamPipeline, 0, len(teamPipelineDefs))
	for _, tp := range teamPipelineDefs {
		t := TeamPipeline{ID: s.idOf(tp.seq), Name: tp.name}
		for _, sp := range tp.subs {
			t.SubPipelines = append(t.SubPipelines, SubPipeline{Name: sp.name, Stages: slices.Clone(sp.stages)})
		}
		out = append(out, t)
	}
	return out
}

// idOf makes an id of the org: its six-digit prefix (the one its users'
// ids start with) and a sequence number.
func (s *Sandbox) idOf(seq int) string {
	return s.primary[:6] + pad12(seq)
}

func pad12(n int) string {
	b := []byte("000000000000")
	for i := len(b) - 1; i >= 0 && n > 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}
