package sandbox

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Ref is Zoho's {"name","id"} reference to another record.
type Ref struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// User is a seeded user, shaped as Zoho CRM's user object (the Users API
// of Zoho's documentation), key casing included: Isonline, Modified_Time, Modified_By,
// Reporting_To and Currency are capitalised, the rest are snake_case.
// Status is "active", "disabled" (CRM's value for deactivated users;
// UNVERIFIED for Bigin) or "deleted".
type User struct {
	ID            string  `json:"id"`
	ZUID          string  `json:"zuid"`
	FirstName     string  `json:"first_name"`
	LastName      string  `json:"last_name"`
	FullName      string  `json:"full_name"`
	Email         string  `json:"email"`
	Role          Ref     `json:"role"`
	Profile       Ref     `json:"profile"`
	Status        string  `json:"status"`
	Confirm       bool    `json:"confirm"`
	Isonline      bool    `json:"Isonline"`
	CreatedTime   string  `json:"created_time"`
	ModifiedTime  string  `json:"Modified_Time"`
	CreatedBy     Ref     `json:"created_by"`
	ModifiedBy    Ref     `json:"Modified_By"`
	ReportingTo   *Ref    `json:"Reporting_To"`
	Phone         *string `json:"phone"`
	Mobile        *string `json:"mobile"`
	Fax           *string `json:"fax"`
	Website       *string `json:"website"`
	Street        *string `json:"street"`
	City          *string `json:"city"`
	State         *string `json:"state"`
	Zip           *string `json:"zip"`
	Country       string  `json:"country"`
	Language      string  `json:"language"`
	Locale        string  `json:"locale"`
	CountryLocale string  `json:"country_locale"`
	TimeZone      string  `json:"time_zone"`
	TimeFormat    string  `json:"time_format"`
	DateFormat    string  `json:"date_format"`
	Alias         *string `json:"alias"`
	DOB           *string `json:"dob"`
	Currency      string  `json:"Currency"`
	Offset        int64   `json:"offset"`
}

// Admin reports whether the user has the Administrator profile.
func (u User) Admin() bool { return u.Profile.Name == "Administrator" }

// Role is a seeded role.
type Role struct {
	DisplayLabel    string `json:"display_label"`
	ForecastManager *Ref   `json:"forecast_manager"`
	ShareWithPeers  bool   `json:"share_with_peers"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	ID              string `json:"id"`
	ReportingTo     *Ref   `json:"reporting_to"`
	AdminUser       bool   `json:"admin_user"`
}

// Profile is a seeded profile.
type Profile struct {
	DisplayLabel string  `json:"display_label"`
	CreatedTime  *string `json:"created_time"`
	ModifiedTime *string `json:"modified_time"`
	Custom       bool    `json:"custom"`
	Name         string  `json:"name"`
	ModifiedBy   *Ref    `json:"modified_by"`
	Description  string  `json:"description"`
	ID           string  `json:"id"`
	CreatedBy    *Ref    `json:"created_by"`
}

// org is the organization record.
type org struct {
	ID                   string         `json:"id"`
	CompanyName          string         `json:"company_name"`
	Alias                *string        `json:"alias"`
	Description          *string        `json:"description"`
	PrimaryEmail         string         `json:"primary_email"`
	PrimaryZUID          string         `json:"primary_zuid"`
	ZGID                 string         `json:"zgid"`
	Phone                *string        `json:"phone"`
	Mobile               *string        `json:"mobile"`
	Fax                  *string        `json:"fax"`
	Website              string         `json:"website"`
	EmployeeCount        string         `json:"employee_count"`
	Street               *string        `json:"street"`
	City                 *string        `json:"city"`
	State                *string        `json:"state"`
	Zip                  *string        `json:"zip"`
	Country              string         `json:"country"`
	CountryCode          string         `json:"country_code"`
	TimeZone             string         `json:"time_zone"`
	ISOCode              string         `json:"iso_code"`
	CurrencySymbol       string         `json:"currency_symbol"`
	CurrencyLocale       string         `json:"currency_locale"`
	MCStatus             bool           `json:"mc_status"`
	GappsEnabled         bool           `json:"gapps_enabled"`
	PrivacySettings      bool           `json:"privacy_settings"`
	PhotoID              *string        `json:"photo_id"`
	HierarchyPreferences hierarchyPrefs `json:"hierarchy_preferences"`
	LicenseDetails       licenseDetails `json:"license_details"`
}

type hierarchyPrefs struct {
	Type              string `json:"type"`
	StrictlyReporting bool   `json:"strictly_reporting"`
}

type licenseDetails struct {
	Paid                  bool    `json:"paid"`
	PaidType              string  `json:"paid_type"`
	PaidExpiry            *string `json:"paid_expiry"`
	TrialType             *string `json:"trial_type"`
	TrialExpiry           *string `json:"trial_expiry"`
	UsersLicensePurchased int     `json:"users_license_purchased"`
}

// region is what a datacenter's seeded org looks like locally.
type region struct {
	offset                                 int // seconds east of UTC
	tz, country, locale, lang, iso, symbol string
	city, state, phonePrefix, dateFormat   string
}

func regionOf(location string) region {
	switch location {
	case "eu":
		return region{3600, "Europe/Berlin", "DE", "de_DE", "de_DE", "EUR", "€", "Berlin", "Berlin", "+49 30 ", "dd.MM.yyyy"}
	case "in":
		return region{19800, "Asia/Kolkata", "IN", "en_IN", "en_US", "INR", "₹", "Chennai", "Tamil Nadu", "+91 44 ", "dd/MM/yyyy"}
	case "au":
		return region{36000, "Australia/Sydney", "AU", "en_AU", "en_US", "AUD", "$", "Sydney", "NSW", "+61 2 ", "dd/MM/yyyy"}
	case "jp":
		return region{32400, "Asia/Tokyo", "JP", "ja_JP", "ja_JP", "JPY", "¥", "Tokyo", "Tokyo", "+81 3 ", "yyyy/MM/dd"}
	case "ca":
		return region{-18000, "America/Toronto", "CA", "en_CA", "en_US", "CAD", "$", "Toronto", "Ontario", "+1 416 ", "yyyy-MM-dd"}
	case "sa":
		return region{10800, "Asia/Riyadh", "SA", "ar_SA", "en_US", "SAR", "ر.س", "Riyadh", "Riyadh", "+966 11 ", "dd/MM/yyyy"}
	case "cn":
		return region{28800, "Asia/Shanghai", "CN", "zh_CN", "zh_CN", "CNY", "¥", "Shanghai", "Shanghai", "+86 21 ", "yyyy-MM-dd"}
	case "uk":
		return region{0, "Europe/London", "GB", "en_GB", "en_GB", "GBP", "£", "London", "England", "+44 20 ", "dd/MM/yyyy"}
	}
	return region{-18000, "America/New_York", "US", "en_US", "en_US", "USD", "$", "New York", "NY", "+1 212 ", "MM/dd/yyyy"}
}

// seed fills the organization deterministically from opts.Seed.
func (s *Sandbox) seed() {
	firstNames := []string{
		"Patricia", "Amelia", "Ravi", "Kenji", "Sofia", "Liam", "Chen", "Fatima", "Lucas", "Aisha",
		"Noah", "Priya", "Mateo", "Yuki", "Olivia", "Omar", "Emma", "Arjun", "Hana", "Ethan",
		"Zara", "Diego", "Mei", "Jonas", "Leila", "Tom", "Nadia", "Samuel", "Ines", "Hiro",
		"Grace", "Karim", "Lena", "Vikram", "Chloe", "Andrei", "Ama", "Felix", "Rosa", "Tariq",
	}
	lastNames := []string{
		"Boyle", "Smith", "Kumar", "Tanaka", "Rossi", "Walsh", "Wang", "Haddad", "Silva", "Khan",
		"Becker", "Iyer", "Garcia", "Sato", "Brown", "Farouk", "Martin", "Nair", "Kim", "Clark",
		"Novak", "Lopez", "Li", "Schmidt", "Rahimi", "Evans", "Petrov", "Mensah", "Dubois", "Ito",
		"Murphy", "Aziz", "Fischer", "Reddy", "Moreau", "Popescu", "Owusu", "Weber", "Costa", "Saleh",
	}
	rng := rand.New(rand.NewPCG(s.opts.Seed, s.opts.Seed^0x9e3779b97f4a7c15))
	reg := regionOf(s.opts.Location)
	zone := time.FixedZone(reg.tz, reg.offset)
	prefix := 100000 + rng.IntN(900000) // Zoho ids: an org prefix, then a sequence
	id := func(seq int) string { return fmt.Sprintf("%06d%012d", prefix, seq) }
	epoch := time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)
	stamp := func(t time.Time) string { return t.In(zone).Format("2006-01-02T15:04:05-07:00") }
	str := func(v string) *string { return &v }
	domain := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.ToLower(s.opts.OrgName))
	if domain == "" {
		domain = "org"
	}
	domain += ".example"

	// Roles: CEO and Manager are Bigin's defaults; the rest make a deeper
	// hierarchy with reporting_to.
	type roleDef struct{ name, parent, desc string }
	defs := []roleDef{
		{"CEO", "", "Users with this role have access to the data owned by all other users."},
		{"Manager", "CEO", "Users belonging to this role cannot see data for admin users."},
		{"Regional Sales Manager", "Manager", "Leads a regional sales team and sees its pipelines."},
		{"Sales Representative", "Regional Sales Manager", "Works their own deals and contacts."},
		{"Support Lead", "Manager", "Leads the customer support team."},
		{"Support Agent", "Support Lead", "Handles customer requests."},
	}
	roleByName := map[string]*Role{}
	for i, d := range defs {
		r := Role{DisplayLabel: d.name, Name: d.name, Description: d.desc, ID: id(15966 + 3*i), AdminUser: d.parent == "", ShareWithPeers: d.parent == "" || i%2 == 0}
		if p := roleByName[d.parent]; p != nil {
			r.ReportingTo = &Ref{Name: p.Name, ID: p.ID}
		}
		s.roles = append(s.roles, r)
		roleByName[d.name] = &s.roles[len(s.roles)-1]
	}

	// Users. The primary user comes first: org owner, CEO, Administrator.
	// ZUIDs are Zoho-wide: the other org's are in a range of their own.
	n := s.opts.Users
	zuidBase := cmp.Or(s.zuidBase, 60034346)
	primaryID := id(291009)
	holders := map[string][]*User{} // role name → users holding it
	for i := range n {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		if i == 0 {
			first, last = "Patricia", "Boyle"
		}
		u := &User{
			ID:            id(291009 + 17*i),
			ZUID:          fmt.Sprintf("%d", zuidBase+7*i+rng.IntN(7)),
			FirstName:     first,
			LastName:      last,
			FullName:      first + " " + last,
			Email:         fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), i, domain),
			Status:        "active",
			Confirm:       true,
			Isonline:      rng.IntN(4) == 0,
			Country:       reg.country,
			Language:      reg.lang,
			Locale:        reg.locale,
			CountryLocale: reg.country,
			TimeZone:      reg.tz,
			TimeFormat:    "hh:mm a",
			DateFormat:    reg.dateFormat,
			Currency:      reg.iso,
			Offset:        int64(reg.offset) * 1000,
		}
		if i == 0 {
			u.Email = "p.boyle@" + domain
		}
		created := epoch.Add(time.Duration(i)*61*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
		u.CreatedTime = stamp(created)
		u.ModifiedTime = stamp(created.Add(time.Duration(1+rng.IntN(400)) * time.Hour))
		if i == 0 {
			u.CreatedBy = Ref{Name: u.FullName, ID: u.ID}
		} else {
			u.CreatedBy = Ref{Name: s.users[0].FullName, ID: primaryID}
		}
		u.ModifiedBy = u.CreatedBy
		if rng.IntN(3) > 0 {
			u.Phone = str(fmt.Sprintf("%s%04d %04d", reg.phonePrefix, rng.IntN(10000), rng.IntN(10000)))
		}
		if rng.IntN(2) == 0 {
			u.Mobile = str(fmt.Sprintf("%s%03d %04d", reg.phonePrefix, rng.IntN(1000), rng.IntN(10000)))
		}
		if rng.IntN(3) == 0 {
			u.City, u.State = str(reg.city), str(reg.state)
		}

		// Every user type shows up in any org of a few dozen users.
		role, profile := "", "Standard"
		switch {
		case i == 0:
			role, profile = "CEO", "Administrator"
		case i%25 == 1:
			role, profile = []string{"CEO", "Manager", "Manager"}[rng.IntN(3)], "Administrator"
		default:
			role = []string{"Manager", "Regional Sales Manager", "Sales Representative", "Sales Representative", "Support Lead", "Support Agent", "Support Agent"}[rng.IntN(7)]
			if strings.HasPrefix(role, "Sales") || role == "Regional Sales Manager" {
				if rng.IntN(2) == 0 {
					profile = "Sales Executive"
				}
			}
		}
		switch {
		case i == 0:
		case i%17 == 5:
			u.Status = "deleted"
		case i%10 == 3:
			u.Status = "disabled"
		case i%12 == 7:
			u.Confirm = false
		}
		r := roleByName[role]
		u.Role = Ref{Name: r.Name, ID: r.ID}
		u.Profile = Ref{Name: profile}
		if r.ReportingTo != nil {
			if hs := holders[r.ReportingTo.Name]; len(hs) > 0 {
				m := hs[rng.IntN(len(hs))]
				u.ReportingTo = &Ref{Name: m.FullName, ID: m.ID}
			} else {
				u.ReportingTo = &Ref{Name: "Patricia Boyle", ID: primaryID}
			}
		}
		holders[role] = append(holders[role], u)
		s.users = append(s.users, u)
		s.byID[u.ID] = u
	}
	s.primary = primaryID
	owner := &Ref{Name: s.users[0].FullName, ID: primaryID}

	// Profiles: Administrator and Standard are Bigin's defaults; one custom.
	s.profiles = []Profile{
		{DisplayLabel: "Administrator", ModifiedTime: str(stamp(epoch.Add(30 * 24 * time.Hour))), Name: "Administrator", ModifiedBy: owner,
			Description: "This profile will have all the permissions. Users with Administrator profile will be able to view and manage all the data within the organization account by default.", ID: id(26011)},
		{DisplayLabel: "Standard", ModifiedTime: str(stamp(epoch.Add(60 * 24 * time.Hour))), Name: "Standard", ModifiedBy: owner,
			Description: "This profile will have all the permissions except administrative privileges.", ID: id(26014)},
		{DisplayLabel: "Sales Executive", CreatedTime: str(stamp(epoch.Add(90 * 24 * time.Hour))), ModifiedTime: str(stamp(epoch.Add(120 * 24 * time.Hour))),
			Custom: true, Name: "Sales Executive", ModifiedBy: owner, Description: "Standard permissions without export and without deleting records.", ID: id(26017), CreatedBy: owner},
	}
	profileID := map[string]string{}
	for _, p := range s.profiles {
		profileID[p.Name] = p.ID
	}
	for _, u := range s.users {
		u.Profile.ID = profileID[u.Profile.Name]
	}

	p := s.users[0]
	s.org = org{
		ID:                   id(17001),
		CompanyName:          s.opts.OrgName,
		PrimaryEmail:         p.Email,
		PrimaryZUID:          p.ZUID,
		ZGID:                 fmt.Sprintf("%d", 700000000+rng.IntN(99999999)),
		Phone:                str(reg.phonePrefix + "5550 0100"),
		Website:              "www." + domain,
		EmployeeCount:        fmt.Sprintf("%d", n+rng.IntN(50)),
		City:                 str(reg.city),
		State:                str(reg.state),
		Country:              reg.country,
		CountryCode:          reg.country,
		TimeZone:             reg.tz,
		ISOCode:              reg.iso,
		CurrencySymbol:       reg.symbol,
		CurrencyLocale:       reg.locale,
		PrivacySettings:      true,
		HierarchyPreferences: hierarchyPrefs{Type: "Role_Hierarchy"},
		LicenseDetails: licenseDetails{
			Paid: true, PaidType: "premier", PaidExpiry: str(stamp(epoch.AddDate(5, 0, 0))), UsersLicensePurchased: n,
		},
	}
}
