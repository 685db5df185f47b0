package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DeployOptions say where and what Deploy deploys.
type DeployOptions struct {
	// BaseURL is the gateway's HTTP address ("http://127.0.0.1:8080").
	BaseURL               string
	AccountSID, AuthToken string
	// Service is the service's unique name; it is created if missing.
	Service string
	// Dir is the project folder (see ReadProject).
	Dir string
	// Client makes the requests (default: a client with a 60 s timeout).
	Client *http.Client
}

// DeployResult is what Deploy made.
type DeployResult struct {
	ServiceSID, EnvironmentSID, BuildSID string
	// URL is the base URL the service's functions and assets answer at.
	URL string
}

// Deploy deploys a project through the Serverless API of a running
// gateway, as Twilio's toolkit does: service, "production" environment,
// a version of every function and asset, a build (polled until
// completed), the .env variables, then the deployment.
func Deploy(ctx context.Context, o DeployOptions) (DeployResult, error) {
	p, err := ReadProject(o.Dir)
	if err != nil {
		return DeployResult{}, err
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 60 * time.Second}
	}
	c := &apiClient{base: strings.TrimRight(o.BaseURL, "/") + "/v1/Services", sid: o.AccountSID, token: o.AuthToken, http: o.Client}
	var res DeployResult
	svc, err := c.findOrCreate(ctx, "/"+url.PathEscape(o.Service), "", url.Values{"UniqueName": {o.Service}, "FriendlyName": {o.Service}, "IncludeCredentials": {"true"}})
	if err != nil {
		return res, fmt.Errorf("service: %w", err)
	}
	res.ServiceSID = svc["sid"].(string)
	s := "/" + res.ServiceSID
	env, err := c.findOrCreate(ctx, s+"/Environments/production", s+"/Environments", url.Values{"UniqueName": {"production"}})
	if err != nil {
		return res, fmt.Errorf("environment: %w", err)
	}
	res.EnvironmentSID = env["sid"].(string)
	fvs, err := c.uploadAll(ctx, s+"/Functions", p.Functions, "application/javascript")
	if err != nil {
		return res, err
	}
	avs, err := c.uploadAll(ctx, s+"/Assets", p.Assets, "")
	if err != nil {
		return res, err
	}
	deps, _ := json.Marshal(p.Dependencies)
	if p.Dependencies == nil {
		deps = []byte("[]")
	}
	build, err := c.do(ctx, http.MethodPost, s+"/Builds", url.Values{"FunctionVersions": fvs, "AssetVersions": avs, "Dependencies": {string(deps)}, "Runtime": {"node22"}})
	if err != nil {
		return res, fmt.Errorf("build: %w", err)
	}
	res.BuildSID = build["sid"].(string)
	if err := c.waitBuild(ctx, s+"/Builds/"+res.BuildSID+"/Status"); err != nil {
		return res, err
	}
	e := s + "/Environments/" + res.EnvironmentSID
	if err := c.setVariables(ctx, e+"/Variables", p.Variables); err != nil {
		return res, err
	}
	if _, err := c.do(ctx, http.MethodPost, e+"/Deployments", url.Values{"BuildSid": {res.BuildSID}}); err != nil {
		return res, fmt.Errorf("deployment: %w", err)
	}
	scheme := "http://"
	if strings.HasPrefix(o.BaseURL, "https://") {
		scheme = "https://"
	}
	res.URL = scheme + env["domain_name"].(string)
	return res, nil
}

// apiClient calls the Serverless API with Basic credentials.
type apiClient struct {
	base, sid, token string
	http             *http.Client
}

// apiStatusError is a non-2xx answer.
type apiStatusError struct {
	status int
	body   string
}

func (e *apiStatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, strings.TrimSpace(e.body))
}

func (c *apiClient) do(ctx context.Context, method, path string, form url.Values) (map[string]any, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return c.send(req)
}

func (c *apiClient) send(req *http.Request) (map[string]any, error) {
	req.SetBasicAuth(c.sid, c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		return nil, &apiStatusError{resp.StatusCode, string(b)}
	}
	out := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("bad JSON from %s: %w", req.URL, err)
		}
	}
	return out, nil
}

// findOrCreate fetches get, or on 404 creates with create (or the
// collection of get when create is empty).
func (c *apiClient) findOrCreate(ctx context.Context, get, create string, form url.Values) (map[string]any, error) {
	got, err := c.do(ctx, http.MethodGet, get, nil)
	if se, ok := err.(*apiStatusError); ok && se.status == http.StatusNotFound {
		return c.do(ctx, http.MethodPost, create, form)
	}
	return got, err
}

// list reads every page of a list.
func (c *apiClient) list(ctx context.Context, path, key string) ([]map[string]any, error) {
	var out []map[string]any
	page, err := c.do(ctx, http.MethodGet, path+"?PageSize=1000", nil)
	for err == nil {
		items, _ := page[key].([]any)
		for _, it := range items {
			out = append(out, it.(map[string]any))
		}
		meta, _ := page["meta"].(map[string]any)
		next, _ := meta["next_page_url"].(string)
		if next == "" {
			return out, nil
		}
		req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if rerr != nil {
			return nil, rerr
		}
		page, err = c.send(req)
	}
	return nil, err
}

// uploadAll uploads a version of each file (creating the Function or
// Asset named by its path when missing) and returns the version SIDs.
func (c *apiClient) uploadAll(ctx context.Context, coll string, files []ProjectFile, ctype string) ([]string, error) {
	key := strings.ToLower(strings.TrimPrefix(coll[strings.LastIndex(coll, "/"):], "/"))
	existing, err := c.list(ctx, coll, key)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", key, err)
	}
	byName := map[string]string{}
	for _, e := range existing {
		byName[e["friendly_name"].(string)] = e["sid"].(string)
	}
	var versions []string
	for _, f := range files {
		sid := byName[f.Path]
		if sid == "" {
			made, err := c.do(ctx, http.MethodPost, coll, url.Values{"FriendlyName": {f.Path}})
			if err != nil {
				return nil, fmt.Errorf("creating %s: %w", f.Path, err)
			}
			sid = made["sid"].(string)
		}
		v, err := c.upload(ctx, coll+"/"+sid+"/Versions", f, ctype)
		if err != nil {
			return nil, fmt.Errorf("uploading %s: %w", f.File, err)
		}
		versions = append(versions, v)
	}
	return versions, nil
}

// upload posts one version as multipart/form-data (Path, Visibility,
// Content), the way Twilio's upload endpoint takes it.
func (c *apiClient) upload(ctx context.Context, path string, f ProjectFile, ctype string) (string, error) {
	content, err := os.ReadFile(f.File)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("Path", f.Path)
	_ = mw.WriteField("Visibility", f.Visibility)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="Content"; filename=%q`, filepath.Base(f.File)))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(content)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, &buf)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	v, err := c.send(req)
	if err != nil {
		return "", err
	}
	return v["sid"].(string), nil
}

// waitBuild polls a build's status until it completes (or fails).
func (c *apiClient) waitBuild(ctx context.Context, path string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := c.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return fmt.Errorf("build status: %w", err)
		}
		switch st["status"] {
		case buildCompleted:
			return nil
		case buildFailed:
			return fmt.Errorf("the build failed (the gateway's log says why)")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the build did not complete within 5 minutes")
}

// setVariables creates or updates each variable.
func (c *apiClient) setVariables(ctx context.Context, path string, vars map[string]string) error {
	if len(vars) == 0 {
		return nil
	}
	existing, err := c.list(ctx, path, "variables")
	if err != nil {
		return fmt.Errorf("variables: %w", err)
	}
	byKey := map[string]map[string]any{}
	for _, v := range existing {
		byKey[v["key"].(string)] = v
	}
	for k, v := range vars {
		if old := byKey[k]; old != nil {
			if old["value"] == v {
				continue
			}
			_, err = c.do(ctx, http.MethodPost, path+"/"+old["sid"].(string), url.Values{"Value": {v}})
		} else {
			_, err = c.do(ctx, http.MethodPost, path, url.Values{"Key": {k}, "Value": {v}})
		}
		if err != nil {
			return fmt.Errorf("variable %s: %w", k, err)
		}
	}
	return nil
}
