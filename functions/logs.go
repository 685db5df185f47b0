package functions

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// maxLogs is how many log entries each environment keeps (in memory).
const maxLogs = 1000

// logEntry is one line of a function's log: what it wrote with console.*
// and the runtime's errors about its executions.
type logEntry struct {
	SID            string
	ServiceSID     string
	EnvironmentSID string
	BuildSID       string
	DeploymentSID  string
	FunctionSID    string
	RequestSID     string
	Level          slog.Level
	Message        string
	Date           time.Time
}

// keepLog records e for the environment's Logs resource.
func (m *Manager) keepLog(e logEntry) {
	e.SID = newSID("NO")
	e.Date = time.Now().UTC()
	m.logMu.Lock()
	defer m.logMu.Unlock()
	if m.logs == nil {
		m.logs = map[string][]logEntry{}
	}
	list := append(m.logs[e.EnvironmentSID], e)
	if len(list) > maxLogs {
		list = append([]logEntry(nil), list[len(list)-maxLogs:]...)
	}
	m.logs[e.EnvironmentSID] = list
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	}
	return "info"
}

func (m *Manager) logJSON(e logEntry) map[string]any {
	return map[string]any{"sid": e.SID, "account_sid": m.opts.AccountSID, "service_sid": e.ServiceSID, "environment_sid": e.EnvironmentSID,
		"build_sid": e.BuildSID, "deployment_sid": nilIfEmpty(m.deploymentOf(e.EnvironmentSID, e.BuildSID)), "function_sid": e.FunctionSID,
		"request_sid": e.RequestSID, "level": levelName(e.Level), "message": e.Message, "date_created": iso(e.Date),
		"url": m.serviceURL(e.ServiceSID) + "/Environments/" + e.EnvironmentSID + "/Logs/" + e.SID}
}

// deploymentOf is the latest deployment of build in env.
func (m *Manager) deploymentOf(env, build string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best *Deployment
	for _, d := range m.deployments {
		if d.EnvironmentSID == env && d.BuildSID == build && (best == nil || d.DateCreated.After(best.DateCreated)) {
			best = d
		}
	}
	if best == nil {
		return ""
	}
	return best.SID
}

// listLogs serves /Environments/{ZE}/Logs: newest first, filtered by
// FunctionSid and StartDate/EndDate (default: the last day).
func (m *Manager) listLogs(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	_, e, err := m.scope(r)
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	end, start := time.Now().UTC(), time.Now().UTC().Add(-24*time.Hour)
	for _, p := range []struct {
		key string
		t   *time.Time
	}{{"StartDate", &start}, {"EndDate", &end}} {
		if v := q.Get(p.key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return badRequest("%s must be an ISO 8601 date-time", p.key)
			}
			*p.t = t
		}
	}
	fn := q.Get("FunctionSid")
	m.logMu.Lock()
	list := append([]logEntry(nil), m.logs[e.SID]...)
	m.logMu.Unlock()
	var items []map[string]any
	for i := len(list) - 1; i >= 0; i-- {
		l := list[i]
		if (fn == "" || l.FunctionSID == fn) && !l.Date.Before(start) && !l.Date.After(end) {
			items = append(items, m.logJSON(l))
		}
	}
	return m.writeList(w, r, "logs", items)
}

// fetchLog serves /Environments/{ZE}/Logs/{NO}.
func (m *Manager) fetchLog(w http.ResponseWriter, r *http.Request) error {
	m.mu.RLock()
	_, e, err := m.scope(r)
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	m.logMu.Lock()
	var found *logEntry
	for _, l := range m.logs[e.SID] {
		if l.SID == r.PathValue("log") {
			found = &l
		}
	}
	m.logMu.Unlock()
	if found == nil || !strings.HasPrefix(found.SID, "NO") {
		return notFound(r.URL.Path)
	}
	writeJSON(w, http.StatusOK, m.logJSON(*found))
	return nil
}
