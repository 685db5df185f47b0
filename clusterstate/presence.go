package clusterstate

import (
	"context"
	"errors"
	"time"

	"github.com/voxgate/voxgate/store"
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
	_, err := n.opts.Store.DeleteNodePresence(ctx, n.opts.NodeID)
	return err
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
