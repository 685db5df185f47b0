package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// owned is a stored resource of one account.
type owned interface {
	store.Call | store.Recording | store.Queue
}

// account is the account a stored resource belongs to.
func account[T owned](v T) string {
	switch v := any(v).(type) {
	case store.Call:
		return v.AccountSID
	case store.Recording:
		return v.AccountSID
	case store.Queue:
		return v.AccountSID
	}
	return ""
}

// getOwned loads the resource a path id names with get (a method
// expression of store.Store, such as store.Store.GetCall): 404 for an id
// that is not a SID with prefix, an unknown resource or another
// account's. what names the resource in errors.
func getOwned[T owned](a *restAPI, r *http.Request, prefix, id, what string, get func(store.Store, context.Context, string) (T, error)) (T, error) {
	var zero T
	if err := a.requireStore(); err != nil {
		return zero, err
	}
	if !sid.Valid(prefix, id) {
		return zero, notFound(r)
	}
	v, err := get(a.opts.Store, r.Context(), id)
	if err != nil {
		return zero, storeError(r, "get "+what, err)
	}
	if account(v) != a.opts.AccountSID {
		return zero, notFound(r)
	}
	return v, nil
}

// listRequest is the query of a list request and the page it asks for.
func (a *restAPI) listRequest(r *http.Request) (url.Values, pageRequest, error) {
	if err := a.requireStore(); err != nil {
		return nil, pageRequest{}, err
	}
	q := r.URL.Query()
	p, err := parsePage(q)
	return q, p, err
}

// listOwned serves one page of a list: the page the query asks for, of
// the resources list finds, each written as toJSON makes it, under key.
func listOwned[T any, J any](w http.ResponseWriter, r *http.Request, p pageRequest, key string,
	list func(context.Context, store.Page) ([]T, store.PageToken, error), toJSON func(T) J) error {
	items, next, err := list(r.Context(), p.storePage())
	if err != nil {
		return storeError(r, "list "+key, err)
	}
	out := make([]J, len(items))
	for i, v := range items {
		out[i] = toJSON(v)
	}
	listPage(w, r, key, out, len(out), p, next)
	return nil
}
