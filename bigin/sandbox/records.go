package sandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ref is a lookup's value: the id of a record of mod, of a user (mod ""),
// or of a team pipeline (mod layoutRef). Its name is read when answered,
// so a renamed record shows its new name everywhere, as in Zoho.
type ref struct {
	mod string
	id  string
}

// layoutRef is the mod of a ref to a team pipeline (a deal's Pipeline).
const layoutRef = "$layout"

// record is one record. Its values, one per field of its module in the
// module's order, are string (text, picklist, date, datetime), float64
// (currency), bool, ref, or nil for null.
type record struct {
	id   string
	mod  *moduleDef
	vals []any
	// se is $se_module: the module of an activity's Related_To or a
	// note's Parent_Id.
	se string
}

// table is one module's records in ascending id order (creation order).
type table struct {
	recs []*record
	byID map[string]*record
}

func newRecord(mod *moduleDef) *record {
	return &record{mod: mod, vals: make([]any, len(mod.fields))}
}

// get returns the value of a field, nil when null or not the module's.
func (r *record) get(api string) any {
	if i, ok := r.mod.index[api]; ok {
		return r.vals[i]
	}
	return nil
}

// set sets a field of the module; naming another is a bug of the sandbox.
func (r *record) set(api string, v any) {
	i, ok := r.mod.index[api]
	if !ok {
		panic("sandbox: " + r.mod.name + " has no field " + api)
	}
	r.vals[i] = v
}

func (t *table) add(r *record) {
	t.recs = append(t.recs, r)
	t.byID[r.id] = r
}

func (t *table) remove(id string) {
	delete(t.byID, id)
	t.recs = slices.DeleteFunc(t.recs, func(r *record) bool { return r.id == id })
}

// recordStore is the org's records. It is built on first use (most
// sandboxes of the test suites serve only users), deterministically from
// the sandbox's seed.
type recordStore struct {
	tables map[string]*table // by module, Notes included
	all    map[string]*record
	// links are the product links (Products' related Contacts, Accounts
	// and Pipelines), kept both ways: id → linked ids.
	links map[string]map[string]bool
	next  int // the next record id's sequence number
}

func (st *recordStore) newID(s *Sandbox) string {
	st.next++
	return s.idOf(st.next)
}

func (st *recordStore) add(r *record) {
	st.tables[r.mod.name].add(r)
	st.all[r.id] = r
}

func (st *recordStore) link(a, b string) {
	for _, p := range [][2]string{{a, b}, {b, a}} {
		if st.links[p[0]] == nil {
			st.links[p[0]] = map[string]bool{}
		}
		st.links[p[0]][p[1]] = true
	}
}

// remove deletes a record as Zoho does: its notes go with it, and the
// lookups and links that pointed at it are cleared.
func (st *recordStore) remove(r *record) {
	st.tables[r.mod.name].remove(r.id)
	delete(st.all, r.id)
	for other := range st.links[r.id] {
		delete(st.links[other], r.id)
	}
	delete(st.links, r.id)
	var orphans []*record
	for _, o := range st.all {
		for i, v := range o.vals {
			if rf, ok := v.(ref); ok && rf.id == r.id && rf.mod != "" {
				k := o.mod.fields[i].api
				if o.mod.name == Notes && k == "Parent_Id" {
					orphans = append(orphans, o)
					continue
				}
				o.vals[i] = nil
				if k == o.mod.seField {
					o.se = ""
				}
			}
		}
	}
	for _, n := range orphans {
		st.remove(n)
	}
}

// storeLocked returns the records, seeding them on first use.
func (s *Sandbox) storeLocked() *recordStore {
	if s.recs == nil {
		s.recs = s.seedRecords()
	}
	return s.recs
}

// zone is the org's time zone, in which Zoho writes timestamps.
func (s *Sandbox) zone() *time.Location {
	reg := regionOf(s.opts.Location)
	return time.FixedZone(reg.tz, reg.offset)
}

func stampIn(t time.Time, z *time.Location) string {
	return t.In(z).Format("2006-01-02T15:04:05-07:00")
}

// Sizes of the seeded org's modules.
const (
	seedAccounts = 120
	seedContacts = 400
	seedDeals    = 300
	seedProducts = 40
	seedTasks    = 240
	seedEvents   = 150
	seedCalls    = 180
	seedNotes    = 360
)

// seedRecords builds the org's records from the sandbox's seed: companies,
// their contacts, deals across both team pipelines, products linked to
// deals, and activities and notes on all of them.
func (s *Sandbox) seedRecords() *recordStore {
	sizes := map[string]int{Accounts: seedAccounts, Contacts: seedContacts, Pipelines: seedDeals, Products: seedProducts,
		Tasks: seedTasks, Events: seedEvents, Calls: seedCalls, Notes: seedNotes}
	total := 0
	for _, n := range sizes {
		total += n
	}
	st := &recordStore{tables: map[string]*table{}, all: make(map[string]*record, total), links: make(map[string]map[string]bool, seedProducts+2*seedDeals), next: 3000000}
	for name := range schema {
		st.tables[name] = &table{recs: make([]*record, 0, sizes[name]), byID: make(map[string]*record, sizes[name])}
	}
	rng := rand.New(rand.NewPCG(s.opts.Seed^0x5eed4ec0, s.opts.Seed+0x7f4a7c15))
	zone := s.zone()
	reg := regionOf(s.opts.Location)
	var owners []string
	for _, u := range s.users {
		if u.Status == "active" && u.Confirm && len(owners) < 25 {
			owners = append(owners, u.ID)
		}
	}
	clock := time.Date(2024, 1, 8, 9, 0, 0, 0, time.UTC)
	add := func(mod string, vals map[string]any) *record {
		clock = clock.Add(time.Duration(40+rng.IntN(200)) * time.Minute)
		r := newRecord(schema[mod])
		r.id = st.newID(s)
		for k, v := range vals {
			r.set(k, v)
		}
		owner := ref{id: owners[rng.IntN(len(owners))]}
		r.set("Owner", owner)
		r.set("Created_By", owner)
		r.set("Modified_By", owner)
		r.set("Created_Time", stampIn(clock, zone))
		r.set("Modified_Time", stampIn(clock.Add(time.Duration(rng.IntN(24*90))*time.Hour), zone))
		st.add(r)
		return r
	}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	phone := func() string { return fmt.Sprintf("%s%04d %04d", reg.phonePrefix, rng.IntN(10000), rng.IntN(10000)) }

	// Companies.
	var accounts []*record
	for i := range seedAccounts {
		name := companyWords[i%len(companyWords)] + " " + companyKinds[(i/len(companyWords)*5+i)%len(companyKinds)] + " " + companySuffixes[i%len(companySuffixes)]
		domain := strings.ToLower(strings.Join(strings.Fields(strings.TrimSuffix(name, " "+companySuffixes[i%len(companySuffixes)])), "")) + ".example"
		v := map[string]any{
			"Account_Name": name, "Phone": phone(), "Website": "https://www." + domain,
			"Industry": pick(industries), "Billing_City": reg.city, "Billing_State": reg.state, "Billing_Country": reg.country,
			"Billing_Street": fmt.Sprintf("%d %s", 1+rng.IntN(400), pick(streets)), "Billing_Code": fmt.Sprintf("%05d", rng.IntN(100000)),
		}
		if rng.IntN(3) == 0 {
			v["Description"] = "Key account since " + strconv.Itoa(2015+rng.IntN(9)) + "."
		}
		accounts = append(accounts, add(Accounts, v))
	}
	domainOf := func(acct *record) string {
		w, _ := acct.get("Website").(string)
		return strings.TrimPrefix(w, "https://www.")
	}

	// Contacts, most at a company.
	var contacts []*record
	byAccount := map[string][]*record{}
	emails := map[string]bool{}
	for i := range seedContacts {
		first, last := pick(contactFirst), pick(contactLast)
		v := map[string]any{"First_Name": first, "Last_Name": last, "Full_Name": first + " " + last, "Title": pick(jobTitles),
			"Mailing_City": reg.city, "Mailing_State": reg.state, "Mailing_Country": reg.country, "Email_Opt_Out": rng.IntN(10) == 0}
		var acct *record
		domain := "mail.example"
		if i%10 != 9 {
			acct = accounts[rng.IntN(len(accounts))]
			v["Account_Name"] = ref{mod: Accounts, id: acct.id}
			domain = domainOf(acct)
		}
		if i%12 != 11 {
			email := strings.ToLower(first + "." + last + "@" + domain)
			for n := 2; emails[email]; n++ {
				email = strings.ToLower(fmt.Sprintf("%s.%s%d@%s", first, last, n, domain))
			}
			emails[email] = true
			v["Email"] = email
		}
		if rng.IntN(4) > 0 {
			v["Phone"] = phone()
		}
		if rng.IntN(2) == 0 {
			v["Mobile"] = phone()
		}
		if rng.IntN(3) == 0 {
			v["Customer_Tier"] = pick(customerTiers)
		}
		r := add(Contacts, v)
		contacts = append(contacts, r)
		if acct != nil {
			byAccount[acct.id] = append(byAccount[acct.id], r)
		}
	}

	// Products.
	var products []*record
	for i := range seedProducts {
		p := productDefs[i%len(productDefs)]
		name := p.name
		if i >= len(productDefs) {
			name += " Plus"
		}
		products = append(products, add(Products, map[string]any{
			"Product_Name": name, "Product_Code": fmt.Sprintf("ZT-%04d", 1001+i), "Unit_Price": p.price,
			"Product_Category": p.category, "Product_Active": i%9 != 8,
		}))
	}

	// Deals: two in three in the Sales Pipeline.
	var deals []*record
	for i := range seedDeals {
		tp := &teamPipelineDefs[0]
		if i%3 == 2 {
			tp = &teamPipelineDefs[1]
		}
		sp := tp.subs[0]
		if rng.IntN(10) >= 7 {
			sp = tp.subs[1]
		}
		acct := accounts[rng.IntN(len(accounts))]
		v := map[string]any{
			"Deal_Name": acct.get("Account_Name").(string) + " - " + pick(dealNeeds),
			"Pipeline":  ref{mod: layoutRef, id: s.idOf(tp.seq)}, "Sub_Pipeline": sp.name, "Stage": pick(sp.stages),
			"Amount":       float64(500 + 50*rng.IntN(3000)),
			"Closing_Date": clock.AddDate(0, 0, 10+rng.IntN(120)).Format(time.DateOnly),
			"Account_Name": ref{mod: Accounts, id: acct.id},
		}
		var contact *record
		if cs := byAccount[acct.id]; len(cs) > 0 {
			contact = cs[rng.IntN(len(cs))]
			v["Contact_Name"] = ref{mod: Contacts, id: contact.id}
		}
		d := add(Pipelines, v)
		deals = append(deals, d)
		for range rng.IntN(3) {
			p := products[rng.IntN(len(products))]
			st.link(p.id, d.id)
			st.link(p.id, acct.id)
			if contact != nil {
				st.link(p.id, contact.id)
			}
		}
	}

	// Activities and notes, each on a contact, a company or a deal.
	target := func() (*record, *record) {
		switch rng.IntN(10) {
		case 0, 1, 2:
			c := contacts[rng.IntN(len(contacts))]
			return c, c
		case 3, 4, 5:
			a := accounts[rng.IntN(len(accounts))]
			var c *record
			if cs := byAccount[a.id]; len(cs) > 0 {
				c = cs[rng.IntN(len(cs))]
			}
			return a, c
		}
		d := deals[rng.IntN(len(deals))]
		var c *record
		if rf, ok := d.get("Contact_Name").(ref); ok {
			c = st.all[rf.id]
		}
		return d, c
	}
	relate := func(v map[string]any, withContact bool) *record {
		on, contact := target()
		v["Related_To"] = ref{mod: on.mod.name, id: on.id}
		if withContact && contact != nil {
			v["Contact_Name"] = ref{mod: Contacts, id: contact.id}
		}
		return on
	}
	for range seedTasks {
		v := map[string]any{"Status": pick(taskStatuses), "Priority": pick(taskPriorities),
			"Due_Date": clock.AddDate(0, 0, rng.IntN(60)-20).Format(time.DateOnly)}
		on := relate(v, true)
		v["Subject"] = fmt.Sprintf(pick(taskSubjects), nameOf(on))
		r := add(Tasks, v)
		r.se = on.mod.name
	}
	for range seedEvents {
		start := clock.AddDate(0, 0, rng.IntN(60)-20).Truncate(time.Hour).Add(time.Duration(rng.IntN(8)) * time.Hour)
		v := map[string]any{"Start_DateTime": stampIn(start, zone), "End_DateTime": stampIn(start.Add(time.Duration(1+rng.IntN(3))*30*time.Minute), zone),
			"All_day": false, "Venue": pick(venues)}
		on := relate(v, false)
		v["Event_Title"] = fmt.Sprintf(pick(eventTitles), nameOf(on))
		r := add(Events, v)
		r.se = on.mod.name
	}
	for range seedCalls {
		v := map[string]any{"Call_Type": pick(callTypes), "Call_Purpose": pick(callPurposes),
			"Call_Start_Time": stampIn(clock.Add(-time.Duration(rng.IntN(500))*time.Hour), zone),
			"Call_Duration":   fmt.Sprintf("%02d:%02d", rng.IntN(45), rng.IntN(60))}
		on := relate(v, true)
		v["Subject"] = fmt.Sprintf(pick(callSubjects), nameOf(on))
		r := add(Calls, v)
		r.se = on.mod.name
	}
	for i := range seedNotes {
		var on *record
		if i%8 == 7 {
			on = products[rng.IntN(len(products))]
		} else {
			on, _ = target()
		}
		n := noteTexts[rng.IntN(len(noteTexts))]
		v := map[string]any{"Note_Content": n[1], "Parent_Id": ref{mod: on.mod.name, id: on.id}}
		if n[0] != "" {
			v["Note_Title"] = n[0]
		}
		r := add(Notes, v)
		r.se = on.mod.name
	}
	return st
}

// nameOf returns the name a lookup to the record shows.
func nameOf(r *record) string {
	v, _ := r.get(r.mod.nameField).(string)
	return v
}

// refName returns the name and, for a user, the email a ref shows; ok is
// false when what it points at is gone.
func (s *Sandbox) refName(st *recordStore, rf ref) (name, email string, ok bool) {
	switch rf.mod {
	case "":
		u := s.byID[rf.id]
		if u == nil {
			return "", "", false
		}
		return u.FullName, u.Email, true
	case layoutRef:
		for _, tp := range teamPipelineDefs {
			if s.idOf(tp.seq) == rf.id {
				return tp.name, "", true
			}
		}
		return "", "", false
	}
	r := st.all[rf.id]
	if r == nil {
		return "", "", false
	}
	return nameOf(r), "", true
}

// appendValue appends v as JSON.
func (s *Sandbox) appendValue(b []byte, st *recordStore, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.AppendInt(b, int64(v), 10)
		}
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(b, v)
	case ref:
		name, email, ok := s.refName(st, v)
		if !ok {
			return append(b, "null"...)
		}
		b = append(b, `{"name":`...)
		b = appendString(b, name)
		b = append(b, `,"id":`...)
		b = appendString(b, v.id)
		if v.mod == "" {
			b = append(b, `,"email":`...)
			b = appendString(b, email)
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("sandbox: a record value of type %T", v))
}

// appendRecord appends the record as JSON: the fields keep marks (all
// when keep is nil), then $se_module when its lookup is answered, then
// "id".
func (s *Sandbox) appendRecord(b []byte, st *recordStore, r *record, keep []bool) []byte {
	b = append(b, '{')
	seShown := false
	for i := range r.mod.fields {
		if keep != nil && !keep[i] {
			continue
		}
		f := &r.mod.fields[i]
		b = appendString(b, f.api)
		b = append(b, ':')
		b = s.appendValue(b, st, r.vals[i])
		b = append(b, ',')
		if f.api == r.mod.seField {
			seShown = true
		}
	}
	if seShown {
		b = append(b, `"$se_module":`...)
		if r.se == "" {
			b = append(b, "null"...)
		} else {
			b = appendString(b, r.se)
		}
		b = append(b, ',')
	}
	b = append(b, `"id":`...)
	b = appendString(b, r.id)
	return append(b, '}')
}

// appendString appends s as a JSON string, escaping as encoding/json does
// (without HTML escaping).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			case '\u2028':
				b = append(b, `\u2028`...)
			default:
				b = append(b, `\u2029`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// RecordIDs returns the ids of a module's records (Notes included), in
// ascending order, which is the order they were created in.
func (s *Sandbox) RecordIDs(module string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.storeLocked().tables[module]
	if t == nil {
		return nil
	}
	ids := make([]string, len(t.recs))
	for i, r := range t.recs {
		ids[i] = r.id
	}
	return ids
}

// Record returns one record as GET /{module}/{id} answers it (every
// field).
func (s *Sandbox) Record(module, id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	t := st.tables[module]
	if t == nil || t.byID[id] == nil {
		return nil, false
	}
	return s.appendRecord(nil, st, t.byID[id], nil), true
}

// Names the seeded records are made of.
var (
	companyWords = []string{"Northwind", "Bluebird", "Granite", "Harbor", "Summit", "Cedar", "Lumen", "Orchard", "Falcon", "Riverside",
		"Copper", "Evergreen", "Atlas", "Meridian", "Willow", "Beacon", "Silverline", "Oakridge", "Nimbus", "Crescent",
		"Redwood", "Sterling", "Juniper", "Pioneer", "Cobalt", "Horizon", "Maple", "Keystone", "Aurora", "Tidewater"}
	companyKinds    = []string{"Logistics", "Foods", "Dental", "Studios", "Analytics", "Outfitters", "Builders", "Pharma", "Textiles", "Robotics", "Travel", "Farms"}
	companySuffixes = []string{"Inc", "LLC", "Ltd", "Co"}
	streets         = []string{"Main Street", "Market Street", "Park Avenue", "Oak Lane", "Harbor Road", "Station Road", "King Street", "Elm Drive"}
	contactFirst    = []string{"Amelia", "Ravi", "Kenji", "Sofia", "Liam", "Chen", "Fatima", "Lucas", "Aisha", "Noah",
		"Priya", "Mateo", "Yuki", "Olivia", "Omar", "Emma", "Arjun", "Hana", "Ethan", "Zara",
		"Diego", "Mei", "Jonas", "Leila", "Tom", "Nadia", "Samuel", "Ines", "Hiro", "Grace"}
	contactLast = []string{"Smith", "Kumar", "Tanaka", "Rossi", "Walsh", "Wang", "Haddad", "Silva", "Khan", "Becker",
		"Iyer", "Garcia", "Sato", "Brown", "Farouk", "Martin", "Nair", "Kim", "Clark", "Novak",
		"Lopez", "Li", "Schmidt", "Rahimi", "Evans", "Petrov", "Mensah", "Dubois", "Ito", "Murphy"}
	jobTitles   = []string{"CEO", "Owner", "Operations Manager", "Purchasing Lead", "Office Manager", "CTO", "Head of Sales", "Store Manager", "Accountant", "Marketing Director"}
	dealNeeds   = []string{"Annual renewal", "Pilot", "Expansion", "New store rollout", "Support plan", "Hardware refresh", "Onboarding", "Multi-site license", "Consulting package", "Reseller agreement"}
	productDefs = []struct {
		name, category string
		price          float64
	}{
		{"Point of Sale Terminal", "Hardware", 899}, {"Receipt Printer", "Hardware", 249}, {"Barcode Scanner", "Hardware", 129.5},
		{"Inventory Cloud", "Subscriptions", 49}, {"Inventory Cloud Pro", "Subscriptions", 99}, {"Payroll Module", "Software", 1200},
		{"Analytics Add-on", "Software", 650}, {"Onsite Installation", "Services", 400}, {"Staff Training Day", "Services", 750},
		{"Priority Support", "Subscriptions", 199}, {"Kitchen Display", "Hardware", 540}, {"Loyalty Program", "Software", 300},
		{"Data Migration", "Services", 980}, {"Customer Display", "Hardware", 210}, {"Gift Card Module", "Software", 150},
		{"Extended Warranty", "Services", 120}, {"Mobile Ordering", "Subscriptions", 79}, {"Cash Drawer", "Hardware", 95.75},
		{"Online Store", "Subscriptions", 59}, {"API Access", "Software", 500},
	}
	taskSubjects = []string{"Follow up with %s", "Send proposal to %s", "Prepare quote for %s", "Check contract status: %s", "Schedule demo for %s", "Collect feedback from %s"}
	eventTitles  = []string{"Demo with %s", "Quarterly review: %s", "Site visit at %s", "Kick-off: %s", "Lunch with %s"}
	callSubjects = []string{"Discovery call with %s", "Pricing call: %s", "Check-in with %s", "Renewal call: %s", "Support follow-up: %s"}
	venues       = []string{"Customer office", "Our office", "Video call", "Trade fair booth", "Cafe downtown"}
	noteTexts    = [][2]string{{"Call summary", "Discussed pricing and timeline; they want a revised quote by Friday."}, {"Decision makers", "The CFO signs off; operations runs the evaluation."}, {"Budget", "Budget approved for this quarter, up to the amount in the deal."}, {"Competitor", "They are also talking to a competitor; our support plan is the differentiator."}, {"Next steps", "Send the onboarding checklist and book the training day."}, {"", "Left a voicemail, will try again tomorrow."}, {"Requirements", "Needs multi-store inventory and (at least) two receipt printers per site."}, {"Feedback", "Happy with the pilot; asked about the loyalty program, gift cards, and API access."}}
)
