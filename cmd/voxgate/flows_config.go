package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/voxgate/voxgate/store"
)

// configFlowStore is the flow store the /v2/Flows API sees: the flows made
// through the API (kept in the database), and the flows config files name
// (numbers[].flow, default_app.flow), each shown as its one published
// revision. A config flow is changed by editing its file: the API refuses
// to update or delete it.
type configFlowStore struct {
	*store.SQLite                               // API flows, revisions and test users
	files         map[string]store.FlowRevision // config flows by SID
	paths         map[string]string             // their files by SID
	order         []string                      // their SIDs, newest file first
}

// newConfigFlowStore serves the config's flow files (file → SID, from
// loadFlows) beside db's flows.
func newConfigFlowStore(db *store.SQLite, accountSID string, sids map[string]string) (*configFlowStore, error) {
	s := &configFlowStore{SQLite: db, files: map[string]store.FlowRevision{}, paths: map[string]string{}}
	for file, flowSID := range sids {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", file, err)
		}
		if !json.Valid(data) {
			return nil, fmt.Errorf("flow %s: not JSON", file)
		}
		var modified time.Time
		if fi, err := os.Stat(file); err == nil {
			modified = fi.ModTime().UTC()
		}
		s.files[flowSID] = store.FlowRevision{
			FlowSID: flowSID, AccountSID: accountSID, Revision: 1,
			FriendlyName: filepath.Base(file), Status: store.FlowPublished, Definition: data,
			CommitMessage: "from the config file " + file, Valid: true,
			Errors: json.RawMessage("[]"), Warnings: json.RawMessage("[]"),
			DateCreated: modified, DateUpdated: modified,
		}
		s.paths[flowSID] = file
		s.order = append(s.order, flowSID)
	}
	sort.Slice(s.order, func(i, j int) bool {
		a, b := s.files[s.order[i]], s.files[s.order[j]]
		if !a.DateCreated.Equal(b.DateCreated) {
			return a.DateCreated.After(b.DateCreated)
		}
		return a.FlowSID > b.FlowSID
	})
	return s, nil
}

// readOnly is the error for changing a config flow through the API.
func (s *configFlowStore) readOnly(flowSID string) error {
	return fmt.Errorf("%w: flow %s comes from the config file %s: edit the file and restart",
		store.ErrInvalid, flowSID, s.paths[flowSID])
}

// UpdateFlow implements store.FlowStore.
func (s *configFlowStore) UpdateFlow(ctx context.Context, r store.FlowRevision) (store.FlowRevision, error) {
	if _, ok := s.files[r.FlowSID]; ok {
		return store.FlowRevision{}, s.readOnly(r.FlowSID)
	}
	return s.SQLite.UpdateFlow(ctx, r)
}

// DeleteFlow implements store.FlowStore.
func (s *configFlowStore) DeleteFlow(ctx context.Context, flowSID string) error {
	if _, ok := s.files[flowSID]; ok {
		return s.readOnly(flowSID)
	}
	return s.SQLite.DeleteFlow(ctx, flowSID)
}

// GetFlow implements store.FlowStore.
func (s *configFlowStore) GetFlow(ctx context.Context, flowSID string) (store.FlowRevision, error) {
	if fr, ok := s.files[flowSID]; ok {
		return fr, nil
	}
	return s.SQLite.GetFlow(ctx, flowSID)
}

// GetFlowRevision implements store.FlowStore.
func (s *configFlowStore) GetFlowRevision(ctx context.Context, flowSID string, revision int) (store.FlowRevision, error) {
	if fr, ok := s.files[flowSID]; ok {
		if revision != fr.Revision {
			return store.FlowRevision{}, fmt.Errorf("flow %s revision %d: %w", flowSID, revision, store.ErrNotFound)
		}
		return fr, nil
	}
	return s.SQLite.GetFlowRevision(ctx, flowSID, revision)
}

// LatestFlowRevision implements store.FlowStore.
func (s *configFlowStore) LatestFlowRevision(ctx context.Context, flowSID, status string) (store.FlowRevision, error) {
	if fr, ok := s.files[flowSID]; ok {
		if status != "" && status != fr.Status {
			return store.FlowRevision{}, fmt.Errorf("flow %s %s revision: %w", flowSID, status, store.ErrNotFound)
		}
		return fr, nil
	}
	return s.SQLite.LatestFlowRevision(ctx, flowSID, status)
}

// ListFlowRevisions implements store.FlowStore.
func (s *configFlowStore) ListFlowRevisions(ctx context.Context, flowSID string, p store.Page) ([]store.FlowRevision, store.PageToken, error) {
	if fr, ok := s.files[flowSID]; ok {
		return []store.FlowRevision{fr}, "", nil
	}
	return s.SQLite.ListFlowRevisions(ctx, flowSID, p)
}

// ListFlows implements store.FlowStore: the config flows of the account
// come first, on the first page, then the database's pages.
func (s *configFlowStore) ListFlows(ctx context.Context, accountSID string, p store.Page) ([]store.FlowRevision, store.PageToken, error) {
	flows, next, err := s.SQLite.ListFlows(ctx, accountSID, p)
	if err != nil || p.Token != "" {
		return flows, next, err
	}
	var out []store.FlowRevision
	for _, flowSID := range s.order {
		if fr := s.files[flowSID]; fr.AccountSID == accountSID {
			out = append(out, fr)
		}
	}
	return append(out, flows...), next, nil
}
