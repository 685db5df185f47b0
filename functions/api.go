package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIHandler serves the Serverless API v1 under /v1/Services with
// Twilio's paths, parameters and JSON shapes. It does not check
// credentials: mount it behind the REST API's Basic auth (api.RequireAuth).
//
//	/v1/Services                                    GET, POST
//	/v1/Services/{ZS|UniqueName}                    GET, POST, DELETE
//	/v1/Services/{ZS}/Environments[/{ZE}]           GET, POST / GET, DELETE
//	/v1/Services/{ZS}/Environments/{ZE}/Variables[/{ZV}]    GET, POST / GET, POST, DELETE
//	/v1/Services/{ZS}/Environments/{ZE}/Deployments[/{ZD}]  GET, POST / GET
//	/v1/Services/{ZS}/Environments/{ZE}/Logs[/{NO}]         GET (the last 1000, in memory)
//	/v1/Services/{ZS}/Functions[/{ZH}]              GET, POST / GET, POST, DELETE
//	/v1/Services/{ZS}/Functions/{ZH}/Versions       GET, POST (multipart upload: Path, Visibility, Content)
//	/v1/Services/{ZS}/Functions/{ZH}/Versions/{ZN}[/Content]  GET
//	/v1/Services/{ZS}/Assets[/{ZH}], …/Versions[/{ZN}]        as Functions (no Content)
//	/v1/Services/{ZS}/Builds[/{ZB}][/Status]        GET, POST / GET, DELETE / GET
func (m *Manager) APIHandler() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, f func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r); err != nil {
				m.writeError(w, err)
			}
		})
	}
	const s = "/v1/Services"
	h("GET "+s, m.listServices)
	h("POST "+s, m.createService)
	h("GET "+s+"/{svc}", m.fetchService)
	h("POST "+s+"/{svc}", m.updateService)
	h("DELETE "+s+"/{svc}", m.deleteService)
	h("GET "+s+"/{svc}/Environments", m.listEnvironments)
	h("POST "+s+"/{svc}/Environments", m.createEnvironment)
	h("GET "+s+"/{svc}/Environments/{env}", m.fetchEnvironment)
	h("DELETE "+s+"/{svc}/Environments/{env}", m.deleteEnvironment)
	h("GET "+s+"/{svc}/Environments/{env}/Variables", m.listVariables)
	h("POST "+s+"/{svc}/Environments/{env}/Variables", m.createVariable)
	h("GET "+s+"/{svc}/Environments/{env}/Variables/{v}", m.fetchVariable)
	h("POST "+s+"/{svc}/Environments/{env}/Variables/{v}", m.updateVariable)
	h("DELETE "+s+"/{svc}/Environments/{env}/Variables/{v}", m.deleteVariable)
	h("GET "+s+"/{svc}/Environments/{env}/Deployments", m.listDeployments)
	h("POST "+s+"/{svc}/Environments/{env}/Deployments", m.createDeployment)
	h("GET "+s+"/{svc}/Environments/{env}/Deployments/{d}", m.fetchDeployment)
	h("GET "+s+"/{svc}/Environments/{env}/Logs", m.listLogs)
	h("GET "+s+"/{svc}/Environments/{env}/Logs/{log}", m.fetchLog)
	for _, kind := range []string{kindFunction, kindAsset} {
		base := s + "/{svc}/" + collection(kind)
		h("GET "+base, m.listResources(kind))
		h("POST "+base, m.createResource(kind))
		h("GET "+base+"/{res}", m.fetchResource(kind))
		h("POST "+base+"/{res}", m.updateResource(kind))
		h("DELETE "+base+"/{res}", m.deleteResource(kind))
		h("GET "+base+"/{res}/Versions", m.listVersions(kind))
		h("POST "+base+"/{res}/Versions", m.uploadVersion(kind))
		h("GET "+base+"/{res}/Versions/{ver}", m.fetchVersion(kind))
	}
	h("GET "+s+"/{svc}/Functions/{res}/Versions/{ver}/Content", m.fetchVersionContent)
	h("GET "+s+"/{svc}/Builds", m.listBuilds)
	h("POST "+s+"/{svc}/Builds", m.createBuild)
	h("GET "+s+"/{svc}/Builds/{b}", m.fetchBuild)
	h("DELETE "+s+"/{svc}/Builds/{b}", m.deleteBuild)
	h("GET "+s+"/{svc}/Builds/{b}/Status", m.fetchBuildStatus)
	return mux
}

func collection(kind string) string {
	if kind == kindFunction {
		return "Functions"
	}
	return "Assets"
}

// apiError is Twilio's error answer.
type apiError struct {
	status, code int
	message      string
}

func (e *apiError) Error() string { return e.message }

func notFound(what string) error {
	return &apiError{http.StatusNotFound, 20404, "The requested resource " + what + " was not found"}
}

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, 20001, fmt.Sprintf(format, args...)}
}

func (m *Manager) writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		m.log.Error("functions: API request failed", "error", err)
		ae = &apiError{http.StatusInternalServerError, 20500, "Internal Server Error"}
	}
	writeJSON(w, ae.status, map[string]any{"code": ae.code, "message": ae.message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", ae.code), "status": ae.status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// writeList writes one page of items (Page, PageSize) in Twilio's envelope.
func (m *Manager) writeList(w http.ResponseWriter, r *http.Request, key string, items []map[string]any) error {
	q := r.URL.Query()
	size, page := 50, 0
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("PageSize must be between 1 and 1000")
		}
		size = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest("Page must be a non-negative integer")
		}
		page = n
	}
	base := m.opts.PublicURL + r.URL.Path
	pageURL := func(p int) string { return fmt.Sprintf("%s?PageSize=%d&Page=%d", base, size, p) }
	from := min(page*size, len(items))
	to := min(from+size, len(items))
	meta := map[string]any{"page": page, "page_size": size, "first_page_url": pageURL(0), "previous_page_url": nil,
		"url": pageURL(page), "next_page_url": nil, "key": key}
	if page > 0 {
		meta["previous_page_url"] = pageURL(page - 1)
	}
	if to < len(items) {
		meta["next_page_url"] = pageURL(page + 1)
	}
	page0 := items[from:to]
	if page0 == nil {
		page0 = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{key: page0, "meta": meta})
	return nil
}

// form parses a request's parameters (form or multipart).
func form(r *http.Request) (url.Values, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return nil, badRequest("bad multipart body: %v", err)
		}
		return r.Form, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("bad form body: %v", err)
	}
	return r.Form, nil
}

func parseBool(f url.Values, key string, def bool) (bool, error) {
	v := f.Get(key)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("%s must be true or false", key)
	}
	return b, nil
}

// ---- Services

func (m *Manager) serviceURL(s string) string { return m.opts.PublicURL + "/v1/Services/" + s }

func (m *Manager) serviceJSON(s *Service) map[string]any {
	u := m.serviceURL(s.SID)
	return map[string]any{"sid": s.SID, "account_sid": m.opts.AccountSID, "friendly_name": s.FriendlyName, "unique_name": s.UniqueName,
		"include_credentials": s.IncludeCredentials, "ui_editable": s.UIEditable, "domain_base": s.UniqueName,
		"date_created": iso(s.DateCreated), "date_updated": iso(s.DateUpdated), "url": u,
		"links": map[string]string{"environments": u + "/Environments", "functions": u + "/Functions", "assets": u + "/Assets", "builds": u + "/Builds"}}
}

// service finds a service by SID or unique name (caller holds m.mu).
func (m *Manager) service(key string) *Service {
	if s := m.services[key]; s != nil {
		return s
	}
	for _, s := range m.services {
		if s.UniqueName == key {
			return s
		}
	}
	return nil
}

func (m *Manager) listServices(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	var items []map[string]any
	for _, s := range sortedBy(m.services, func(s *Service) time.Time { return s.DateCreated }) {
		items = append(items, m.serviceJSON(s))
	}
	m.mu.RUnlock()
	return m.writeList(w, r, "services", items)
}

var uniqueNamePattern = func(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

func (m *Manager) createService(w http.ResponseWriter, r *http.Request) error {
	f, err := form(r)
	if err != nil {
		return err
	}
	un, fn := f.Get("UniqueName"), f.Get("FriendlyName")
	if !uniqueNamePattern(un) || len(un) > 50 || strings.HasPrefix(un, prefixService) && len(un) == 34 {
		return badRequest("UniqueName is required: up to 50 letters, digits, - or _")
	}
	if fn == "" || utf8.RuneCountInString(fn) > 255 {
		return badRequest("FriendlyName is required (up to 255 characters)")
	}
	creds, err := parseBool(f, "IncludeCredentials", true)
	if err != nil {
		return err
	}
	ui, err := parseBool(f, "UiEditable", false)
	if err != nil {
		return err
	}
	t := now()
	s := &Service{SID: newSID(prefixService), UniqueName: un, FriendlyName: fn, IncludeCredentials: creds, UIEditable: ui, DateCreated: t, DateUpdated: t}
	m.mu.Lock()
	if m.service(un) != nil {
		m.mu.Unlock()
		return &apiError{http.StatusConflict, 54301, "Unique name already in use: " + un}
	}
	m.services[s.SID] = s
	out := m.serviceJSON(s)
	m.mu.Unlock()
	m.save(r.Context(), kindService, s.SID, "", s)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (m *Manager) fetchService(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.service(r.PathValue("svc"))
	if s == nil {
		return notFound(r.URL.Path)
	}
	writeJSON(w, http.StatusOK, m.serviceJSON(s))
	return nil
}

func (m *Manager) updateService(w http.ResponseWriter, r *http.Request) error {
	f, err := form(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	s := m.service(r.PathValue("svc"))
	if s == nil {
		m.mu.Unlock()
		return notFound(r.URL.Path)
	}
	creds, err1 := parseBool(f, "IncludeCredentials", s.IncludeCredentials)
	ui, err2 := parseBool(f, "UiEditable", s.UIEditable)
	if err := errors.Join(err1, err2); err != nil {
		m.mu.Unlock()
		return err1
	}
	if fn := f.Get("FriendlyName"); fn != "" {
		s.FriendlyName = fn
	}
	s.IncludeCredentials, s.UIEditable, s.DateUpdated = creds, ui, now()
	saved, out := *s, m.serviceJSON(s)
	m.mu.Unlock()
	m.save(r.Context(), kindService, saved.SID, "", saved)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) deleteService(w http.ResponseWriter, r *http.Request) error {
	m.mu.Lock()
	s := m.service(r.PathValue("svc"))
	if s == nil {
		m.mu.Unlock()
		return notFound(r.URL.Path)
	}
	var sids []string
	var retired []*liveEnv
	del := func(owned bool, sid string) bool {
		if owned {
			sids = append(sids, sid)
		}
		return owned
	}
	for k, v := range m.envs {
		if del(v.ServiceSID == s.SID, k) {
			delete(m.envs, k)
			if l := m.live[k]; l != nil {
				retired = append(retired, l)
				delete(m.live, k)
			}
		}
	}
	for k, v := range m.resources {
		if del(v.ServiceSID == s.SID, k) {
			delete(m.resources, k)
		}
	}
	for k, v := range m.versions {
		if del(v.ServiceSID == s.SID, k) {
			delete(m.versions, k)
		}
	}
	for k, v := range m.builds {
		if del(v.ServiceSID == s.SID, k) {
			delete(m.builds, k)
		}
	}
	for k, v := range m.deployments {
		if del(v.ServiceSID == s.SID, k) {
			delete(m.deployments, k)
		}
	}
	for k, v := range m.variables {
		if del(v.ServiceSID == s.SID, k) {
			delete(m.variables, k)
		}
	}
	delete(m.services, s.SID)
	sids = append(sids, s.SID)
	m.mu.Unlock()
	for _, l := range retired {
		l.pool.close(0)
	}
	m.forget(r.Context(), sids...)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Environments

func (m *Manager) envJSON(e *Environment) map[string]any {
	u := m.serviceURL(e.ServiceSID) + "/Environments/" + e.SID
	var build any
	if e.BuildSID != "" {
		build = e.BuildSID
	}
	svc := m.services[e.ServiceSID]
	return map[string]any{"sid": e.SID, "account_sid": m.opts.AccountSID, "service_sid": e.ServiceSID, "build_sid": build,
		"unique_name": e.UniqueName, "domain_suffix": nilIfEmpty(e.DomainSuffix), "domain_name": m.domainName(svc, e),
		"date_created": iso(e.DateCreated), "date_updated": iso(e.DateUpdated), "url": u,
		"links": map[string]string{"variables": u + "/Variables", "deployments": u + "/Deployments", "logs": u + "/Logs"}}
}

// domainName is where an environment answers: host and /fn/ path.
func (m *Manager) domainName(s *Service, e *Environment) string {
	host := strings.TrimPrefix(strings.TrimPrefix(m.opts.PublicURL, "http://"), "https://")
	key := s.UniqueName
	if e.DomainSuffix != "" {
		key += "-" + e.DomainSuffix
	}
	return host + "/fn/" + key
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scope resolves {svc} and, when present, {env} (caller holds m.mu).
func (m *Manager) scope(r *http.Request) (*Service, *Environment, error) {
	s := m.service(r.PathValue("svc"))
	if s == nil {
		return nil, nil, notFound(r.URL.Path)
	}
	if r.PathValue("env") == "" {
		return s, nil, nil
	}
	e := m.envs[r.PathValue("env")]
	if e == nil {
		for _, x := range m.envs {
			if x.ServiceSID == s.SID && x.UniqueName == r.PathValue("env") {
				e = x
			}
		}
	}
	if e == nil || e.ServiceSID != s.SID {
		return nil, nil, notFound(r.URL.Path)
	}
	return s, e, nil
}

func (m *Manager) listEnvironments(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	s, _, err := m.scope(r)
	var items []map[string]any
	if err == nil {
		for _, e := range sortedBy(m.envs, func(e *Environment) time.Time { return e.DateCreated }) {
			if e.ServiceSID == s.SID {
				items = append(items, m.envJSON(e))
			}
		}
	}
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	return m.writeList(w, r, "environments", items)
}

func (m *Manager) createEnvironment(w http.ResponseWriter, r *http.Request) error {
	f, err := form(r)
	if err != nil {
		return err
	}
	un, suffix := f.Get("UniqueName"), f.Get("DomainSuffix")
	if un == "" || len(un) > 100 {
		return badRequest("UniqueName is required (up to 100 characters)")
	}
	if len(suffix) > 16 || suffix != "" && !uniqueNamePattern(suffix) {
		return badRequest("DomainSuffix: up to 16 letters, digits, - or _")
	}
	m.mu.Lock()
	s, _, err := m.scope(r)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	for _, e := range m.envs {
		if e.ServiceSID == s.SID && (e.UniqueName == un || e.DomainSuffix == suffix) {
			m.mu.Unlock()
			return &apiError{http.StatusConflict, 54301, "An environment with this UniqueName or DomainSuffix already exists"}
		}
	}
	t := now()
	e := &Environment{SID: newSID(prefixEnvironment), ServiceSID: s.SID, UniqueName: un, DomainSuffix: suffix, DateCreated: t, DateUpdated: t}
	m.envs[e.SID] = e
	out := m.envJSON(e)
	m.mu.Unlock()
	m.save(r.Context(), kindEnvironment, e.SID, s.SID, e)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (m *Manager) fetchEnvironment(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, e, err := m.scope(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m.envJSON(e))
	return nil
}

func (m *Manager) deleteEnvironment(w http.ResponseWriter, r *http.Request) error {
	m.mu.Lock()
	_, e, err := m.scope(r)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	sids := []string{e.SID}
	for k, v := range m.variables {
		if v.EnvironmentSID == e.SID {
			delete(m.variables, k)
			sids = append(sids, k)
		}
	}
	for k, v := range m.deployments {
		if v.EnvironmentSID == e.SID {
			delete(m.deployments, k)
			sids = append(sids, k)
		}
	}
	delete(m.envs, e.SID)
	l := m.live[e.SID]
	delete(m.live, e.SID)
	m.mu.Unlock()
	if l != nil {
		l.pool.close(0)
	}
	m.forget(r.Context(), sids...)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Variables

func (m *Manager) variableJSON(v *Variable) map[string]any {
	return map[string]any{"sid": v.SID, "account_sid": m.opts.AccountSID, "service_sid": v.ServiceSID, "environment_sid": v.EnvironmentSID,
		"key": v.Key, "value": v.Value, "date_created": iso(v.DateCreated), "date_updated": iso(v.DateUpdated),
		"url": m.serviceURL(v.ServiceSID) + "/Environments/" + v.EnvironmentSID + "/Variables/" + v.SID}
}

func (m *Manager) listVariables(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	_, e, err := m.scope(r)
	var items []map[string]any
	if err == nil {
		for _, v := range sortedBy(m.variables, func(v *Variable) time.Time { return v.DateCreated }) {
			if v.EnvironmentSID == e.SID {
				items = append(items, m.variableJSON(v))
			}
		}
	}
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	return m.writeList(w, r, "variables", items)
}

func checkVariable(key, value string) error {
	if key == "" || len(key) > 128 {
		return badRequest("Key is required (up to 128 characters)")
	}
	if len(value) > 450 {
		return badRequest("Value is longer than 450 bytes")
	}
	return nil
}

func (m *Manager) createVariable(w http.ResponseWriter, r *http.Request) error {
	f, err := form(r)
	if err != nil {
		return err
	}
	if _, ok := f["Value"]; !ok {
		return badRequest("Value is required")
	}
	key, value := f.Get("Key"), f.Get("Value")
	if err := checkVariable(key, value); err != nil {
		return err
	}
	m.mu.Lock()
	_, e, err := m.scope(r)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	for _, v := range m.variables {
		if v.EnvironmentSID == e.SID && v.Key == key {
			m.mu.Unlock()
			return &apiError{http.StatusConflict, 54301, "Variable " + key + " already exists"}
		}
	}
	t := now()
	v := &Variable{SID: newSID(prefixVariable), ServiceSID: e.ServiceSID, EnvironmentSID: e.SID, Key: key, Value: value, DateCreated: t, DateUpdated: t}
	m.variables[v.SID] = v
	out, envSID := m.variableJSON(v), e.SID
	m.mu.Unlock()
	m.save(r.Context(), kindVariable, v.SID, envSID, v)
	if err := m.reload(r.Context(), envSID); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// reload restarts a live environment's workers (new Variables).
func (m *Manager) reload(ctx context.Context, envSID string) error {
	m.mu.RLock()
	l := m.live[envSID]
	m.mu.RUnlock()
	if l == nil {
		return nil
	}
	if err := m.activate(ctx, envSID, l.build.SID); err != nil {
		return fmt.Errorf("functions: restarting the environment with its new variables: %w", err)
	}
	return nil
}

func (m *Manager) variable(r *http.Request) (*Variable, error) {
	_, e, err := m.scope(r)
	if err != nil {
		return nil, err
	}
	v := m.variables[r.PathValue("v")]
	if v == nil || v.EnvironmentSID != e.SID {
		return nil, notFound(r.URL.Path)
	}
	return v, nil
}

func (m *Manager) fetchVariable(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, err := m.variable(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m.variableJSON(v))
	return nil
}

func (m *Manager) updateVariable(w http.ResponseWriter, r *http.Request) error {
	f, err := form(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	v, err := m.variable(r)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	key, value := v.Key, v.Value
	if f.Has("Key") {
		key = f.Get("Key")
	}
	if f.Has("Value") {
		value = f.Get("Value")
	}
	if err := checkVariable(key, value); err != nil {
		m.mu.Unlock()
		return err
	}
	v.Key, v.Value, v.DateUpdated = key, value, now()
	saved, out := *v, m.variableJSON(v)
	m.mu.Unlock()
	m.save(r.Context(), kindVariable, saved.SID, saved.EnvironmentSID, saved)
	if err := m.reload(r.Context(), saved.EnvironmentSID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) deleteVariable(w http.ResponseWriter, r *http.Request) error {
	m.mu.Lock()
	v, err := m.variable(r)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	delete(m.variables, v.SID)
	m.mu.Unlock()
	m.forget(r.Context(), v.SID)
	if err := m.reload(r.Context(), v.EnvironmentSID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Deployments

func (m *Manager) deploymentJSON(d *Deployment) map[string]any {
	return map[string]any{"sid": d.SID, "account_sid": m.opts.AccountSID, "service_sid": d.ServiceSID, "environment_sid": d.EnvironmentSID,
		"build_sid": d.BuildSID, "date_created": iso(d.DateCreated), "date_updated": iso(d.DateUpdated),
		"url": m.serviceURL(d.ServiceSID) + "/Environments/" + d.EnvironmentSID + "/Deployments/" + d.SID}
}

func (m *Manager) listDeployments(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	_, e, err := m.scope(r)
	var items []map[string]any
	if err == nil {
		for _, d := range sortedBy(m.deployments, func(d *Deployment) time.Time { return d.DateCreated }) {
			if d.EnvironmentSID == e.SID {
				items = append(items, m.deploymentJSON(d))
			}
		}
	}
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	return m.writeList(w, r, "deployments", items)
}

// createDeployment makes a completed build live in the environment once
// its workers are warm; the old deployment serves until then, and a
// failure changes nothing.
func (m *Manager) createDeployment(w http.ResponseWriter, r *http.Request) error {
	f, err := form(r)
	if err != nil {
		return err
	}
	buildSID := f.Get("BuildSid")
	m.mu.RLock()
	_, e, err := m.scope(r)
	var b *Build
	if err == nil {
		b = m.builds[buildSID]
	}
	var envSID, svcSID string
	if e != nil {
		envSID, svcSID = e.SID, e.ServiceSID
	}
	status := ""
	if b != nil {
		status = b.Status
	}
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	if b == nil || b.ServiceSID != svcSID {
		return badRequest("BuildSid %q is not a build of this service", buildSID)
	}
	if status != buildCompleted {
		return badRequest("build %s is %s, not completed", buildSID, status)
	}
	if err := m.activate(r.Context(), envSID, buildSID); err != nil {
		return &apiError{http.StatusBadRequest, 20001, "deployment failed: " + err.Error()}
	}
	t := now()
	d := &Deployment{SID: newSID(prefixDeployment), ServiceSID: svcSID, EnvironmentSID: envSID, BuildSID: buildSID, DateCreated: t, DateUpdated: t}
	m.mu.Lock()
	m.deployments[d.SID] = d
	var saved Environment
	if e := m.envs[envSID]; e != nil {
		e.BuildSID, e.DateUpdated = buildSID, t
		saved = *e
	}
	out := m.deploymentJSON(d)
	m.mu.Unlock()
	m.save(r.Context(), kindDeployment, d.SID, envSID, d)
	m.save(r.Context(), kindEnvironment, saved.SID, svcSID, saved)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (m *Manager) fetchDeployment(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, e, err := m.scope(r)
	if err != nil {
		return err
	}
	d := m.deployments[r.PathValue("d")]
	if d == nil || d.EnvironmentSID != e.SID {
		return notFound(r.URL.Path)
	}
	writeJSON(w, http.StatusOK, m.deploymentJSON(d))
	return nil
}

// ---- Functions and Assets

func (m *Manager) resourceJSON(x *Resource) map[string]any {
	u := m.serviceURL(x.ServiceSID) + "/" + collection(x.Kind) + "/" + x.SID
	link := "asset_versions"
	if x.Kind == kindFunction {
		link = "function_versions"
	}
	return map[string]any{"sid": x.SID, "account_sid": m.opts.AccountSID, "service_sid": x.ServiceSID, "friendly_name": x.FriendlyName,
		"date_created": iso(x.DateCreated), "date_updated": iso(x.DateUpdated), "url": u, "links": map[string]string{link: u + "/Versions"}}
}

func (m *Manager) resource(r *http.Request, kind string) (*Resource, error) {
	s, _, err := m.scope(r)
	if err != nil {
		return nil, err
	}
	x := m.resources[r.PathValue("res")]
	if x == nil || x.ServiceSID != s.SID || x.Kind != kind {
		return nil, notFound(r.URL.Path)
	}
	return x, nil
}

func (m *Manager) listResources(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		m.mu.RLock()
		s, _, err := m.scope(r)
		var items []map[string]any
		if err == nil {
			for _, x := range sortedBy(m.resources, func(x *Resource) time.Time { return x.DateCreated }) {
				if x.ServiceSID == s.SID && x.Kind == kind {
					items = append(items, m.resourceJSON(x))
				}
			}
		}
		m.mu.RUnlock()
		if err != nil {
			return err
		}
		return m.writeList(w, r, strings.ToLower(collection(kind)), items)
	}
}

func (m *Manager) createResource(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := form(r)
		if err != nil {
			return err
		}
		name := f.Get("FriendlyName")
		if name == "" || utf8.RuneCountInString(name) > 255 {
			return badRequest("FriendlyName is required (up to 255 characters)")
		}
		m.mu.Lock()
		s, _, err := m.scope(r)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		t := now()
		x := &Resource{SID: newSID(prefixFunction), Kind: kind, ServiceSID: s.SID, FriendlyName: name, DateCreated: t, DateUpdated: t}
		m.resources[x.SID] = x
		out := m.resourceJSON(x)
		m.mu.Unlock()
		m.save(r.Context(), kind, x.SID, x.ServiceSID, x)
		writeJSON(w, http.StatusCreated, out)
		return nil
	}
}

func (m *Manager) fetchResource(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		m.mu.RLock()
		defer m.mu.RUnlock()
		x, err := m.resource(r, kind)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, m.resourceJSON(x))
		return nil
	}
}

func (m *Manager) updateResource(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := form(r)
		if err != nil {
			return err
		}
		name := f.Get("FriendlyName")
		if name == "" || utf8.RuneCountInString(name) > 255 {
			return badRequest("FriendlyName is required (up to 255 characters)")
		}
		m.mu.Lock()
		x, err := m.resource(r, kind)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		x.FriendlyName, x.DateUpdated = name, now()
		saved, out := *x, m.resourceJSON(x)
		m.mu.Unlock()
		m.save(r.Context(), kind, saved.SID, saved.ServiceSID, saved)
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (m *Manager) deleteResource(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		m.mu.Lock()
		x, err := m.resource(r, kind)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		delete(m.resources, x.SID)
		m.mu.Unlock()
		// Its versions stay: builds made from them keep working.
		m.forget(r.Context(), x.SID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// ---- Versions

func (m *Manager) versionJSON(v *Version) map[string]any {
	u := m.serviceURL(v.ServiceSID) + "/" + collection(v.Kind) + "/" + v.ResourceSID + "/Versions/" + v.SID
	out := map[string]any{"sid": v.SID, "account_sid": m.opts.AccountSID, "service_sid": v.ServiceSID, "path": v.Path,
		"visibility": v.Visibility, "date_created": iso(v.DateCreated), "url": u}
	if v.Kind == kindFunction {
		out["function_sid"] = v.ResourceSID
		out["links"] = map[string]string{"function_version_content": u + "/Content"}
	} else {
		out["asset_sid"] = v.ResourceSID
	}
	return out
}

func (m *Manager) listVersions(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		m.mu.RLock()
		x, err := m.resource(r, kind)
		var items []map[string]any
		if err == nil {
			for _, v := range sortedBy(m.versions, func(v *Version) time.Time { return v.DateCreated }) {
				if v.ResourceSID == x.SID {
					items = append(items, m.versionJSON(v))
				}
			}
		}
		m.mu.RUnlock()
		if err != nil {
			return err
		}
		key := "asset_versions"
		if kind == kindFunction {
			key = "function_versions"
		}
		return m.writeList(w, r, key, items)
	}
}

// uploadVersion stores a new Version from a multipart upload (fields Path
// and Visibility, file Content), as Twilio's upload endpoint takes it.
func (m *Manager) uploadVersion(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := form(r)
		if err != nil {
			return err
		}
		p := f.Get("Path")
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		if err := checkPath(p); err != nil {
			return badRequest("Path: %v", err)
		}
		vis := strings.ToLower(f.Get("Visibility"))
		if vis != Public && vis != Protected && vis != Private {
			return badRequest("Visibility must be public, protected or private")
		}
		content, err := uploadedContent(r, f)
		if err != nil {
			return err
		}
		m.mu.RLock()
		x, err := m.resource(r, kind)
		m.mu.RUnlock()
		if err != nil {
			return err
		}
		v := &Version{SID: newSID(prefixVersion), ServiceSID: x.ServiceSID, ResourceSID: x.SID, Kind: kind, Path: p, Visibility: vis, DateCreated: now()}
		if err := os.WriteFile(m.contentPath(v.SID), content, 0o644); err != nil {
			return fmt.Errorf("functions: storing version content: %w", err)
		}
		m.mu.Lock()
		m.versions[v.SID] = v
		out := m.versionJSON(v)
		m.mu.Unlock()
		m.save(r.Context(), kindVersion, v.SID, x.SID, v)
		writeJSON(w, http.StatusCreated, out)
		return nil
	}
}

// uploadedContent is the Content file of a multipart upload, or a
// Content form field.
func uploadedContent(r *http.Request, f url.Values) ([]byte, error) {
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["Content"]; len(fhs) > 0 {
			file, err := fhs[0].Open()
			if err != nil {
				return nil, badRequest("Content: %v", err)
			}
			defer file.Close()
			b, err := io.ReadAll(file)
			if err != nil {
				return nil, badRequest("Content: %v", err)
			}
			return b, nil
		}
	}
	if f.Has("Content") {
		return []byte(f.Get("Content")), nil
	}
	return nil, badRequest("Content is required (a file in a multipart/form-data upload)")
}

func (m *Manager) fetchVersion(kind string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		m.mu.RLock()
		defer m.mu.RUnlock()
		v, err := m.version(r, kind)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, m.versionJSON(v))
		return nil
	}
}

func (m *Manager) version(r *http.Request, kind string) (*Version, error) {
	s, _, err := m.scope(r)
	if err != nil {
		return nil, err
	}
	v := m.versions[r.PathValue("ver")]
	if v == nil || v.ServiceSID != s.SID || v.ResourceSID != r.PathValue("res") || v.Kind != kind {
		return nil, notFound(r.URL.Path)
	}
	return v, nil
}

func (m *Manager) fetchVersionContent(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	v, err := m.version(r, kindFunction)
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(m.contentPath(v.SID))
	if err != nil {
		return fmt.Errorf("functions: reading version content: %w", err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sid": v.SID, "account_sid": m.opts.AccountSID, "service_sid": v.ServiceSID,
		"function_sid": v.ResourceSID, "content": string(b), "url": m.opts.PublicURL + r.URL.Path})
	return nil
}

// ---- Builds

func (m *Manager) buildJSON(b *Build) map[string]any {
	u := m.serviceURL(b.ServiceSID) + "/Builds/" + b.SID
	vers := func(sids []string) []map[string]any {
		out := []map[string]any{}
		for _, s := range sids {
			if v := m.versions[s]; v != nil {
				out = append(out, m.versionJSON(v))
			}
		}
		return out
	}
	deps := b.Dependencies
	if deps == nil {
		deps = []Dependency{}
	}
	return map[string]any{"sid": b.SID, "account_sid": m.opts.AccountSID, "service_sid": b.ServiceSID, "status": b.Status,
		"function_versions": vers(b.FunctionVersions), "asset_versions": vers(b.AssetVersions), "dependencies": deps,
		"runtime": b.Runtime, "date_created": iso(b.DateCreated), "date_updated": iso(b.DateUpdated), "url": u,
		"links": map[string]string{"build_status": u + "/Status"}}
}

func (m *Manager) build1(r *http.Request) (*Build, error) {
	s, _, err := m.scope(r)
	if err != nil {
		return nil, err
	}
	b := m.builds[r.PathValue("b")]
	if b == nil || b.ServiceSID != s.SID {
		return nil, notFound(r.URL.Path)
	}
	return b, nil
}

func (m *Manager) listBuilds(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	s, _, err := m.scope(r)
	var items []map[string]any
	if err == nil {
		for _, b := range sortedBy(m.builds, func(b *Build) time.Time { return b.DateCreated }) {
			if b.ServiceSID == s.SID {
				items = append(items, m.buildJSON(b))
			}
		}
	}
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	return m.writeList(w, r, "builds", items)
}

func (m *Manager) createBuild(w http.ResponseWriter, r *http.Request) error {
	f, err := form(r)
	if err != nil {
		return err
	}
	deps, err := parseDependencies(f.Get("Dependencies"))
	if err != nil {
		return badRequest("%v", err)
	}
	runtime := f.Get("Runtime")
	if runtime == "" {
		runtime = "node22"
	}
	if !slices.Contains(runtimes, runtime) {
		return &apiError{http.StatusBadRequest, 20001, "unsupported runtime: " + runtime}
	}
	m.mu.RLock()
	s, _, err := m.scope(r)
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	b, err := m.startBuild(s.SID, f["FunctionVersions"], f["AssetVersions"], deps, runtime)
	if err != nil {
		return badRequest("%v", err)
	}
	m.mu.RLock()
	out := m.buildJSON(b)
	m.mu.RUnlock()
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (m *Manager) fetchBuild(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, err := m.build1(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m.buildJSON(b))
	return nil
}

func (m *Manager) fetchBuildStatus(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, err := m.build1(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sid": b.SID, "account_sid": m.opts.AccountSID, "service_sid": b.ServiceSID,
		"status": b.Status, "url": m.serviceURL(b.ServiceSID) + "/Builds/" + b.SID + "/Status"})
	return nil
}

func (m *Manager) deleteBuild(w http.ResponseWriter, r *http.Request) error {
	m.mu.Lock()
	b, err := m.build1(r)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	for _, e := range m.envs {
		if e.BuildSID == b.SID {
			m.mu.Unlock()
			return badRequest("build %s is deployed in environment %s", b.SID, e.SID)
		}
	}
	if b.Status == buildBuilding {
		m.mu.Unlock()
		return badRequest("build %s is still building", b.SID)
	}
	delete(m.builds, b.SID)
	m.mu.Unlock()
	_ = os.RemoveAll(m.buildDir(b.SID))
	m.forget(r.Context(), b.SID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sortedBy lists a map's values oldest first (then by key, the SID).
func sortedBy[T any](mp map[string]*T, created func(*T) time.Time) []*T {
	keys := make([]string, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := created(mp[a]).Compare(created(mp[b])); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := make([]*T, len(keys))
	for i, k := range keys {
		out[i] = mp[k]
	}
	return out
}
