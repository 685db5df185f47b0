package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/taskrouter"
	"github.com/voxgate/voxgate/web"
	"github.com/voxgate/voxgate/webchat"
)

// newTaskRouter starts TaskRouter on the gateway's database (its REST API
// is served under /v1/Workspaces) and mirrors the configured queues and
// agents into its default workspace.
// liveGrace is taskrouter.Options.LiveGrace (0 on one node).
func newTaskRouter(ctx context.Context, cfg config.Config, db *store.DB, liveGrace time.Duration, log *slog.Logger) (*taskrouter.Router, taskrouter.DefaultIDs, error) {
	tr, err := taskrouter.New(ctx, taskrouter.Options{
		LiveGrace:  liveGrace,
		AccountSID: cfg.Account.SID,
		AuthToken:  cfg.Account.AuthToken,
		Store:      db,
		Logger:     log.With("component", "taskrouter"),
		PublicURL:  cfg.HTTP.PublicURL,
	})
	if err != nil {
		return nil, taskrouter.DefaultIDs{}, fmt.Errorf("taskrouter: %w", err)
	}
	defaults := taskrouter.Defaults{}
	for _, a := range cfg.Agents {
		defaults.Agents = append(defaults.Agents, taskrouter.DefaultAgent{ID: a.ID, Name: a.Name, Queues: a.Queues})
	}
	ids, err := tr.EnsureDefaults(defaults)
	if err != nil {
		tr.Close()
		return nil, ids, fmt.Errorf("taskrouter: default workspace: %w", err)
	}
	return tr, ids, nil
}

// newDesk makes the web chat service (/webchat) and the agents'
// TaskRouter desktop on the default workspace; convs holds the
// conversations of both (web chats and SMS handed to Flex).
func newDesk(tr taskRouting, ids taskrouter.DefaultIDs, convs *conversation.Store, cfg config.Config, flow chatFlow, calls desk.Calls, log *slog.Logger) (*webchat.Service, web.TaskDesk) {
	wf := cfg.WebChat.Workflow
	if wf == "" {
		wf = ids.WorkflowSID
	}
	attrs := map[string]any{}
	if cfg.WebChat.Queue != "" {
		attrs["queue"] = cfg.WebChat.Queue
	}
	chats := webchat.New(webchat.Options{Tasks: tr, WorkflowSID: wf, Attributes: attrs, Conversations: convs,
		Flow: flow.runner, FlowSID: flow.sid, Logger: log.With("component", "webchat")})
	if cw, ok := tr.(*clusterWiring); ok {
		return chats, cw.desk() // a cluster's desktop: the leader's TaskRouter; call controls are not offered there yet
	}
	d := desk.New(tr.(*taskrouter.Router), convs, ids.WorkspaceSID, ids.Workers, log.With("component", "desk"))
	d.EnableCalls(calls, supervisorIDs(cfg.Agents)) // the voice tasks' call controls: wire_agentcalls.go
	return chats, deskAdapter{d}
}

// deskAdapter fits *desk.Desk to web.TaskDesk.
type deskAdapter struct{ d *desk.Desk }

func (a deskAdapter) Open(agentID string) (web.DeskSession, error) {
	s, err := a.d.Open(agentID)
	if err != nil {
		return nil, err
	}
	return deskSession{s}, nil
}

type deskSession struct{ *desk.Session }

func (s deskSession) Snapshot() (any, error) { return s.Session.Snapshot() }

func (s deskSession) Do(action, reservationSID, body, activity string) error {
	return s.Session.Do(desk.Request{Action: action, ReservationSID: reservationSID, Body: body, Activity: activity})
}

func (s deskSession) Call(action, taskSID, target string) error {
	return s.Session.Do(desk.Request{Action: action, TaskSID: taskSID, Target: target})
}
