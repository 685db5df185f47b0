package clusterstate

import (
	"context"
	"errors"
	"time"

	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/taskrouter"
)

// SIP headers of an internal leg (the task is in ivr.TaskHeader).
const (
	// LegHeader marks an INVITE as a cluster-internal leg; its value is
	// the proof (Signer) over the agent and the task.
	LegHeader = "X-Voxgate-Cluster-Leg"
	// LegAgentHeader names the agent the leg rings.
	LegAgentHeader = "X-Voxgate-Cluster-Agent"
)

// SignIn records that agentID's desktop is connected to this node
// (session names the connection; the newest wins).
func (n *Node) SignIn(ctx context.Context, agentID, session string) error {
	uri := ""
	if n.opts.SIPURI != nil {
		uri = n.opts.SIPURI(agentID)
	}
	return n.opts.Store.PutPresence(ctx, store.Presence{AgentID: agentID, NodeID: n.opts.NodeID, Session: session, SIPURI: uri})
}

// SignOut forgets the connection session of agentID (a newer one, here
// or on another node, is kept).
func (n *Node) SignOut(ctx context.Context, agentID, session string) error {
	_, err := n.opts.Store.DeletePresence(ctx, agentID, session)
	return err
}

// ClearPresence forgets every agent this node had (at start-up: the
// desktops of a former run of this node are gone).
func (n *Node) ClearPresence(ctx context.Context) error {
	_, err := n.ForgetNode(ctx, n.opts.NodeID)
	return err
}

// ForgetNode forgets the agents whose desktops were connected to nodeID
// (a node that died: call it from the cluster's dead-node hook) and, on
// the leader, moves their workers to the workspace's Offline activity
// so that no task is reserved to a desktop that is gone. It returns the
// agents.
func (n *Node) ForgetNode(ctx context.Context, nodeID string) ([]string, error) {
	agents, err := n.opts.Store.DeleteNodePresence(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	l := n.leading.Load()
	if l == nil || len(agents) == 0 {
		return agents, nil
	}
	ws := l.Defaults.WorkspaceSID
	offline := ""
	if acts, err := l.Router.Activities(ws); err == nil {
		for _, a := range acts {
			if a.FriendlyName == "Offline" {
				offline = a.SID
			}
		}
	}
	if offline == "" {
		return agents, nil
	}
	for _, a := range agents {
		if wk := l.Defaults.Workers[a]; wk != "" {
			if _, err := l.Router.UpdateWorker(ws, wk, taskrouter.WorkerParams{ActivitySID: &offline}); err != nil {
				n.log.Warn("clusterstate: moving a gone agent's worker offline", "agent", a, "node", nodeID, "error", err)
			}
		}
	}
	n.log.Info("clusterstate: forgot the agents of a node", "node", nodeID, "agents", len(agents))
	return agents, nil
}

// AgentElsewhere says whether agentID's desktop is connected to another
// node, and the SIP URI that node rings it at.
func (n *Node) AgentElsewhere(ctx context.Context, agentID string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := n.opts.Store.GetPresence(ctx, agentID)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if p.NodeID == n.opts.NodeID || p.SIPURI == "" {
		return "", false, nil
	}
	return p.SIPURI, true, nil
}

// LegHeaders are the headers of an internal INVITE ringing agentID for
// taskSID ("" for a call that is no task's).
func (n *Node) LegHeaders(agentID, taskSID string) map[string]string {
	return map[string]string{
		LegAgentHeader: agentID,
		LegHeader:      n.opts.Signer.Sign(time.Now(), "leg", agentID, taskSID),
	}
}

// VerifyLeg checks an internal INVITE's proof (valid for a minute).
func (n *Node) VerifyLeg(proof, agentID, taskSID string) error {
	return n.opts.Signer.Verify(time.Now(), proof, "leg", agentID, taskSID)
}
