package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// proxyResources are the Bigin resources the Proxy API maps 1 to 1, in
// the order messages list them. Nothing else reaches Zoho: the resource
// picks one of the client's operations, never a path.
var proxyResources = []string{"users", "roles", "profiles", "organization", "me"}

// proxyQuery is each resource's allow-list of query parameters for a
// list (integrated_account_id is always allowed).
var proxyQuery = map[string][]string{
	"users":        {"type", "limit", "next_cursor"},
	"roles":        {"limit", "next_cursor"},
	"profiles":     {"limit", "next_cursor"},
	"organization": {},
	"me":           {},
}

func checkResource(resource string) error {
	if !slices.Contains(proxyResources, resource) {
		return notFoundf("no proxy resource %q; the resources are %s", clip(resource), strings.Join(proxyResources, ", "))
	}
	return nil
}

func (a *API) handleProxyList(w http.ResponseWriter, r *http.Request) error {
	resource := r.PathValue("resource")
	if err := checkResource(resource); err != nil {
		return err
	}
	q, err := query(r, append([]string{"integrated_account_id"}, proxyQuery[resource]...)...)
	if err != nil {
		return err
	}
	args, err := pageArgs(q)
	if err != nil {
		return err
	}
	op := catalog.Operation{Name: "GET /proxy/" + resource, Args: args}
	switch resource {
	case "users":
		typ := q.Get("type")
		if typ == "" {
			typ = "AllUsers"
		}
		if !slices.Contains(bigin.UserTypes(), typ) {
			return invalidf("type %q is not one of Zoho's user types: %s", clip(typ), strings.Join(bigin.UserTypes(), ", "))
		}
		op.Run = usersPage(typ, nil)
	case "roles":
		op.Run = localPage(roles, nil)
	case "profiles":
		op.Run = localPage(profiles, nil)
	case "organization":
		op.Run = single(func(c *bigin.Client) func(context.Context) (json.RawMessage, error) { return c.Org })
	case "me":
		op.Run = single(func(c *bigin.Client) func(context.Context) (json.RawMessage, error) { return c.CurrentUser })
	}
	return a.do(w, r, "proxy", q.Get("integrated_account_id"), op, false)
}

func (a *API) handleProxyGet(w http.ResponseWriter, r *http.Request) error {
	resource, id := r.PathValue("resource"), r.PathValue("id")
	if err := checkResource(resource); err != nil {
		return err
	}
	if resource == "organization" || resource == "me" {
		return notFoundf("%s is one record, not a collection: GET /proxy/%s", resource, resource)
	}
	q, err := query(r, "integrated_account_id")
	if err != nil {
		return err
	}
	if err := checkID(id, strings.TrimSuffix(resource, "s")); err != nil {
		return err
	}
	op := catalog.Operation{Name: "GET /proxy/" + resource + "/{id}", Args: catalog.Args{ID: id}}
	switch resource {
	case "users":
		op.Run = getUser(id, nil)
	case "roles":
		op.Run = fromList(roles, id, nil)
	case "profiles":
		op.Run = fromList(profiles, id, nil)
	}
	return a.do(w, r, "proxy", q.Get("integrated_account_id"), op, true)
}

func (a *API) handleProxyDelete(w http.ResponseWriter, r *http.Request) error {
	resource, id := r.PathValue("resource"), r.PathValue("id")
	if err := checkResource(resource); err != nil {
		return err
	}
	if resource != "users" {
		w.Header().Set("Allow", "GET")
		httpx.WriteError(w, tokens.CodeMethodNotAllowed, "Bigin does not delete "+resource+" through its API; only users can be deleted")
		return nil
	}
	q, err := query(r, "integrated_account_id")
	if err != nil {
		return err
	}
	if err := checkID(id, "user"); err != nil {
		return err
	}
	op := catalog.Operation{Name: "DELETE /proxy/users/{id}", Args: catalog.Args{ID: id}, Run: deleteUser(id)}
	return a.do(w, r, "proxy", q.Get("integrated_account_id"), op, true)
}
