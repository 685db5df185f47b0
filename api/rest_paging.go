package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/voxgate/voxgate/store"
)

// pageRequest is a list request's PageSize, Page and PageToken.
type pageRequest struct {
	size  int // 1..store.MaxPageSize
	page  int // 0-based, informational for keyset lists
	token store.PageToken
}

// parsePage reads PageSize (default 50, capped at 1000), Page and
// PageToken.
func parsePage(q url.Values) (pageRequest, error) {
	size, err := parseInt("PageSize", q.Get("PageSize"), store.DefaultPageSize, codeUnsupportedParam)
	if err != nil {
		return pageRequest{}, err
	}
	if size < 1 {
		return pageRequest{}, badRequest(codeUnsupportedParam, "PageSize must be at least 1, not %d", size)
	}
	page, err := parseInt("Page", q.Get("Page"), 0, codeUnsupportedParam)
	if err != nil {
		return pageRequest{}, err
	}
	if page < 0 {
		return pageRequest{}, badRequest(codeUnsupportedParam, "Page must not be negative, not %d", page)
	}
	return pageRequest{size: min(size, store.MaxPageSize), page: page, token: store.PageToken(q.Get("PageToken"))}, nil
}

// storePage is p as the store's page argument.
func (p pageRequest) storePage() store.Page {
	return store.Page{Size: p.size, Token: p.token}
}

// listPage writes Twilio's list envelope: the records under key plus
// uri, first_page_uri, next_page_uri (null on the last page),
// previous_page_uri, page, page_size, start and end. Links keep the
// request's filters. next is the token of the following page ("" when
// this is the last). previous_page_uri is first_page_uri on page 1 and
// null otherwise: keyset tokens only run forwards.
func listPage(w http.ResponseWriter, r *http.Request, key string, records any, n int, p pageRequest, next store.PageToken) {
	filters := url.Values{}
	for k, v := range r.URL.Query() {
		switch k {
		case "Page", "PageSize", "PageToken":
		default:
			filters[k] = v
		}
	}
	link := func(page int, token store.PageToken) string {
		q := url.Values{}
		for k, v := range filters {
			q[k] = v
		}
		q.Set("PageSize", strconv.Itoa(p.size))
		q.Set("Page", strconv.Itoa(page))
		if token != "" {
			q.Set("PageToken", string(token))
		}
		return r.URL.EscapedPath() + "?" + q.Encode()
	}
	start := p.page * p.size
	end := start
	if n > 0 {
		end = start + n - 1
	}
	var nextURI, prevURI *string
	if next != "" {
		s := link(p.page+1, next)
		nextURI = &s
	}
	first := link(0, "")
	if p.page == 1 {
		prevURI = &first
	}
	writeJSON(w, http.StatusOK, map[string]any{
		key:                 records,
		"uri":               link(p.page, p.token),
		"first_page_uri":    first,
		"next_page_uri":     nextURI,
		"previous_page_uri": prevURI,
		"page":              p.page,
		"page_size":         p.size,
		"start":             start,
		"end":               end,
	})
}
