package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// route is one Bigin endpoint: its methods and, per method, the scopes of
// which any one is enough (Zoho's scope rules: an .ALL scope covers every
// operation, and ZohoBigin.settings.ALL/READ cover the settings as in CRM).
type route struct {
	methods map[string][]string
	serve   func(s *Sandbox, w http.ResponseWriter, r *http.Request, caller *User, id string)

	// The record endpoints need more than one scope at once (a module's
	// and search's, say): allow decides in place of methods' lists, and
	// serveRec answers with the call's module, id and related list.
	allow    func(method string, granted []string) bool
	serveRec func(s *Sandbox, w http.ResponseWriter, r *http.Request, c *recCall)
	mod      *moduleDef
	id       string
	related  string
}

// allowed reports whether the token's scopes cover the call.
func (rt *route) allowed(method string, granted []string) bool {
	if rt.allow != nil {
		return rt.allow(method, granted)
	}
	return slices.ContainsFunc(rt.methods[method], func(sc string) bool { return slices.Contains(granted, sc) })
}

// match finds the route of a path below /bigin/vN/, and the {id} in it.
func match(rest string) (*route, string) {
	usersRead := []string{"ZohoBigin.users.ALL", "ZohoBigin.users.READ"}
	switch {
	case rest == "users":
		return &route{methods: map[string][]string{http.MethodGet: usersRead}, serve: (*Sandbox).listUsers}, ""
	case strings.HasPrefix(rest, "users/") && !strings.Contains(rest[len("users/"):], "/") && len(rest) > len("users/"):
		return &route{methods: map[string][]string{
			http.MethodGet:    usersRead,
			http.MethodDelete: {"ZohoBigin.users.ALL", "ZohoBigin.users.DELETE"},
		}, serve: (*Sandbox).user}, rest[len("users/"):]
	case rest == "org":
		return &route{methods: map[string][]string{http.MethodGet: {"ZohoBigin.org.ALL", "ZohoBigin.org.READ"}}, serve: (*Sandbox).getOrg}, ""
	case rest == "settings/roles":
		return &route{methods: map[string][]string{http.MethodGet: {"ZohoBigin.settings.roles.ALL", "ZohoBigin.settings.roles.READ", "ZohoBigin.settings.ALL", "ZohoBigin.settings.READ"}}, serve: (*Sandbox).getRoles}, ""
	case rest == "settings/profiles":
		return &route{methods: map[string][]string{http.MethodGet: {"ZohoBigin.settings.profiles.ALL", "ZohoBigin.settings.profiles.READ", "ZohoBigin.settings.ALL", "ZohoBigin.settings.READ"}}, serve: (*Sandbox).getProfiles}, ""
	}
	if rt := matchRecords(rest); rt != nil {
		return rt, rt.id
	}
	return nil, ""
}

// statusWriter remembers the status answered, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// api serves /bigin/v1/... and /bigin/v2/... alike, in the order Zoho checks a
// request: latency, routing, method, token, scope, faults, then the
// endpoint. The record endpoints go the same way, so every fault applies
// to them too.
func (s *Sandbox) api(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency, held := s.latency, s.hold
	s.mu.Unlock()
	if held != nil {
		select {
		case held.held <- struct{}{}:
		default:
		}
		select {
		case <-held.gate:
		case <-r.Context().Done():
			return
		}
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	token := ""
	scheme, cred, hasAuth := strings.Cut(r.Header.Get("Authorization"), " ")
	if hasAuth {
		token = strings.TrimSpace(cred)
	}
	sw := &statusWriter{ResponseWriter: w}
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Authorization: r.Header.Get("Authorization"), Token: token})
	idx := len(s.log) - 1
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if idx < len(s.log) {
			s.log[idx].Status = sw.status
		}
		s.mu.Unlock()
	}()
	w = sw

	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/bigin/v1/"), "/bigin/v2/")
	rt, id := match(rest)
	if rt == nil {
		writeError(w, http.StatusNotFound, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", nil)
		return
	}
	if _, ok := rt.methods[r.Method]; !ok {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one", nil)
		return
	}

	s.mu.Lock()
	now := s.now()
	g := s.access[token]
	switch {
	case r.Header.Get("Authorization") != "" && !strings.EqualFold(scheme, "Zoho-oauthtoken"):
		s.mu.Unlock()
		// Zoho wants its own scheme, not Bearer;
		// what it answers to another scheme is UNVERIFIED.
		writeError(w, http.StatusUnauthorized, "AUTHENTICATION_FAILURE", "Authentication failed", nil)
		return
	case g == nil || !now.Before(g.expiry):
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "INVALID_TOKEN", "invalid oauth token", nil)
		return
	case !rt.allowed(r.Method, g.scopes):
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "OAUTH_SCOPE_MISMATCH", "Unauthorized", nil)
		return
	}
	caller := *s.byID[g.userID]
	granted := slices.Clone(g.scopes)
	fault := s.nextFaultLocked()
	s.mu.Unlock()
	if fault != 0 {
		serveFault(w, fault, now)
		return
	}
	if rt.serveRec != nil {
		rt.serveRec(s, w, r, &recCall{caller: caller, scopes: granted, mod: rt.mod, id: rt.id, related: rt.related})
		return
	}
	rt.serve(s, w, r, &caller, id)
}

// pageInfo is Zoho's "info" block of a list.
type pageInfo struct {
	PerPage     int  `json:"per_page"`
	Count       int  `json:"count"`
	Page        int  `json:"page"`
	MoreRecords bool `json:"more_records"`
}

// listUsers is GET /users?type=&page=&per_page=.
func (s *Sandbox) listUsers(w http.ResponseWriter, r *http.Request, caller *User, _ string) {
	q := r.URL.Query()
	typ := q.Get("type")
	if typ == "" {
		typ = "AllUsers"
	}
	page, ok := intParam(q.Get("page"), 1)
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"param_name": "page"})
		return
	}
	perPage, ok := intParam(q.Get("per_page"), 200)
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"param_name": "per_page"})
		return
	}
	// Zoho's maximum is 200 (CRM); what it does above is UNVERIFIED, the
	// sandbox serves 200.
	perPage = min(perPage, 200)
	key := usersPageKey{typ, page, perPage}
	s.mu.Lock()
	if b, ok := s.pages[key]; ok && typ != "CurrentUser" {
		s.mu.Unlock()
		writeBody(w, http.StatusOK, b)
		return
	}
	gen := s.usersGen // a page built from this state is cached only if no user changed meanwhile
	var matched []User
	if typ == "CurrentUser" {
		matched = []User{*s.byID[caller.ID]}
	} else {
		keep, known := filterOf(typ)
		if !known {
			s.mu.Unlock()
			// UNVERIFIED: Zoho's answer to an unknown type.
			writeError(w, http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"param_name": "type"})
			return
		}
		for _, u := range s.users {
			if keep(u) {
				matched = append(matched, *u)
			}
		}
	}
	s.mu.Unlock()
	start := (page - 1) * perPage
	if start >= len(matched) {
		writeNoContent(w)
		return
	}
	end := min(start+perPage, len(matched))
	b, err := json.Marshal(struct {
		Users []User   `json:"users"`
		Info  pageInfo `json:"info"`
	}{matched[start:end], pageInfo{PerPage: perPage, Count: end - start, Page: page, MoreRecords: end < len(matched)}})
	if err != nil {
		http.Error(w, "sandbox: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if typ != "CurrentUser" {
		s.mu.Lock()
		if s.usersGen == gen {
			if s.pages == nil {
				s.pages = map[usersPageKey][]byte{}
			}
			s.pages[key] = b
		}
		s.mu.Unlock()
	}
	writeBody(w, http.StatusOK, b)
}

// usersPageKey names one cached answer of GET /users.
type usersPageKey struct {
	typ           string
	page, perPage int
}

// digits reports whether id is all ASCII digits.
func digits(id string) bool {
	return id != "" && strings.Trim(id, "0123456789") == ""
}

// intParam reads a positive integer parameter, def when absent.
func intParam(v string, def int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= 1_000_000
}

// filterOf returns the predicate of a user type.
// Zoho documents the names only; their exact meaning is UNVERIFIED and
// follows CRM: deleted users appear only in AllUsers and DeletedUsers,
// admins are users with the Administrator profile.
func filterOf(typ string) (func(*User) bool, bool) {
	live := func(u *User) bool { return u.Status != "deleted" }
	switch typ {
	case "AllUsers":
		return func(*User) bool { return true }, true
	case "ActiveUsers":
		return func(u *User) bool { return u.Status == "active" }, true
	case "DeactiveUsers":
		return func(u *User) bool { return u.Status == "disabled" }, true
	case "ConfirmedUsers":
		return func(u *User) bool { return live(u) && u.Confirm }, true
	case "NotConfirmedUsers":
		return func(u *User) bool { return live(u) && !u.Confirm }, true
	case "DeletedUsers":
		return func(u *User) bool { return u.Status == "deleted" }, true
	case "ActiveConfirmedUsers":
		return func(u *User) bool { return u.Status == "active" && u.Confirm }, true
	case "AdminUsers":
		return func(u *User) bool { return live(u) && u.Admin() }, true
	case "ActiveConfirmedAdmins":
		return func(u *User) bool { return u.Status == "active" && u.Confirm && u.Admin() }, true
	}
	return nil, false
}

// user is GET and DELETE /users/{id}.
func (s *Sandbox) user(w http.ResponseWriter, r *http.Request, caller *User, id string) {
	invalidID := func() {
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "the id given seems to be invalid", map[string]any{"resource_path_index": 1})
	}
	if r.Method == http.MethodDelete && !caller.Admin() {
		writeError(w, http.StatusForbidden, "NO_PERMISSION", "Permission denied to delete", map[string]any{"permissions": []string{"Crm_Implied_Delete_Users"}})
		return
	}
	s.mu.Lock()
	u := s.byID[id]
	if !digits(id) || u == nil {
		s.mu.Unlock()
		invalidID()
		return
	}
	if r.Method == http.MethodGet {
		cp := *u
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string][]User{"users": {cp}})
		return
	}
	type item struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
		Message string         `json:"message"`
		Status  string         `json:"status"`
	}
	var status int
	var it item
	switch {
	case id == s.primary:
		status, it = http.StatusBadRequest, item{"INVALID_REQUEST", map[string]any{}, "Primary contact cannot be deleted", "error"}
	case u.Status == "deleted":
		status, it = http.StatusBadRequest, item{"ID_ALREADY_DELETED", map[string]any{"id": id, "json_path": "$.users[0].id"}, "User is already deleted", "error"}
	default:
		u.Status = "deleted"
		u.Isonline = false
		loc := time.FixedZone(regionOf(s.opts.Location).tz, regionOf(s.opts.Location).offset)
		u.ModifiedTime = s.now().In(loc).Format("2006-01-02T15:04:05-07:00")
		u.ModifiedBy = Ref{Name: caller.FullName, ID: caller.ID}
		s.pages = nil // every cached page may hold this user
		s.usersGen++
		status, it = http.StatusOK, item{"SUCCESS", map[string]any{"id": id}, "User deleted", "success"}
	}
	s.mu.Unlock()
	writeJSON(w, status, map[string][]item{"users": {it}})
}

// getOrg is GET /org: an array of one, not paginated.
func (s *Sandbox) getOrg(w http.ResponseWriter, _ *http.Request, _ *User, _ string) {
	s.mu.Lock()
	o := s.org
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string][]org{"org": {o}})
}

// getRoles is GET /settings/roles: every role, not paginated.
func (s *Sandbox) getRoles(w http.ResponseWriter, _ *http.Request, _ *User, _ string) {
	writeJSON(w, http.StatusOK, map[string][]Role{"roles": s.Roles()})
}

// getProfiles is GET /settings/profiles: every profile, not paginated.
func (s *Sandbox) getProfiles(w http.ResponseWriter, _ *http.Request, _ *User, _ string) {
	writeJSON(w, http.StatusOK, map[string][]Profile{"profiles": s.Profiles()})
}

// writeError answers Zoho's error body {"code","details","message","status"}.
func writeError(w http.ResponseWriter, status int, code, message string, details map[string]any) {
	if details == nil {
		details = map[string]any{}
	}
	writeJSON(w, status, struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
		Message string         `json:"message"`
		Status  string         `json:"status"`
	}{code, details, message, "error"})
}

// writeNoContent answers 204 with no body, keeping Zoho's content type.
func writeNoContent(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusNoContent)
}

// Users returns a copy of every seeded user, in list order (deleted ones
// included, with status "deleted").
func (s *Sandbox) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = *u
	}
	return out
}

// User returns a copy of one user.
func (s *Sandbox) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// UserIDs returns the ids GET /users?type=typ lists, in order, across all
// pages; CurrentUser means the primary user. An unknown type gives nil.
func (s *Sandbox) UserIDs(typ string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if typ == "CurrentUser" {
		return []string{s.primary}
	}
	keep, ok := filterOf(typ)
	if !ok {
		return nil
	}
	var ids []string
	for _, u := range s.users {
		if keep(u) {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// PrimaryUserID returns the id of the primary user: the org owner, CEO and
// Administrator, who cannot be deleted.
func (s *Sandbox) PrimaryUserID() string { return s.primary }

// OrgID returns the seeded organization's id.
func (s *Sandbox) OrgID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.org.ID
}

// OrgName returns the seeded organization's company_name.
func (s *Sandbox) OrgName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.org.CompanyName
}

// Roles returns the seeded roles, CEO first.
func (s *Sandbox) Roles() []Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.roles)
}

// Profiles returns the seeded profiles, Administrator first.
func (s *Sandbox) Profiles() []Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.profiles)
}

// OrgJSON returns the organization record as GET /org serves it.
func (s *Sandbox) OrgJSON() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(s.org)
	return b
}
