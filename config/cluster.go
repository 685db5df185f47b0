package config

import (
	"net/url"
	"os"
	"time"
)

// Cluster names this gateway among the nodes that share one database
// (storage.driver: postgres).
type Cluster struct {
	// NodeID names the node in logs, metrics and the records it owns.
	// Default: the host name.
	NodeID string `yaml:"node_id"`
	// DrainTimeout, when positive, makes SIGTERM drain the node instead
	// of hanging up at once: /healthz answers 503 "draining" and new
	// INVITEs get 503 (so a balancer such as Kamailio picks another
	// node), the calls in progress go on, and the process exits when the
	// last one ends or after DrainTimeout, hanging up what is left.
	// Default 0: SIGTERM hangs up and exits at once.
	DrainTimeout Duration `yaml:"drain_timeout"`

	// Shared live state (storage.driver: postgres; package clusterstate).
	// InternalURL is the base URL at which the other nodes reach this
	// node's HTTP server: TaskRouter requests are forwarded to the
	// leader there. Default: http:// and http.listen (an unspecified
	// host becomes sip.public_ip, else the SIP listen address).
	InternalURL string `yaml:"internal_url"`
	// Secret authenticates the requests and SIP legs between nodes
	// (HMAC-SHA256). Default: derived from account.auth_token, which
	// the nodes of one cluster share.
	Secret string `yaml:"secret"`
	// Heartbeat is how often a node of a cluster (storage.driver:
	// postgres) writes its heartbeat and looks for dead nodes. Default 2s.
	Heartbeat Duration `yaml:"heartbeat"`
	// DeadAfter is how old a node's last heartbeat must be for the others
	// to take it for dead and take its work over. Default 10s; at least
	// twice Heartbeat.
	DeadAfter Duration `yaml:"dead_after"`

	// NamedQueues says where classic named queues (<Enqueue>name) meet
	// their agents with storage.driver postgres: "cluster" (the default),
	// a caller's <Enqueue>name becomes a task of the default TaskRouter
	// workspace, answered by the queue's agents on any node; "node", each
	// node's own queues as on one node (<Dial><Queue> and the REST
	// dequeue reach only that node's callers).
	NamedQueues string `yaml:"named_queues"`
}

// NamedQueuesInCluster reports whether named queues are carried across
// the cluster's nodes (cluster.named_queues is "cluster" or unset).
func (c Cluster) NamedQueuesInCluster() bool { return c.NamedQueues != "node" }

// setDefaults fills NodeID with the host name when it is not set.
func (c *Cluster) setDefaults() {
	if c.Heartbeat == 0 {
		c.Heartbeat = Duration(2 * time.Second)
	}
	if c.DeadAfter == 0 {
		c.DeadAfter = Duration(10 * time.Second)
	}
	if c.NodeID != "" {
		return
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		c.NodeID = h
	} else {
		c.NodeID = "voxgate"
	}
}

// problem is one invalid key and what is wrong with it.
type problem struct{ key, text string }

// problems checks storage.driver and storage.url. The URL's text is never
// repeated in a message: it may hold a password.
func (s Storage) problems() []problem {
	switch s.Driver {
	case "", "sqlite":
		if s.URL != "" {
			return []problem{{"storage.url", `is set but storage.driver is not "postgres"`}}
		}
	case "postgres":
		if s.URL == "" {
			return []problem{{"storage.url", "must be set when storage.driver is postgres (postgres://user:password@host:5432/db)"}}
		}
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return []problem{{"storage.url", "want postgres://user:password@host:port/database"}}
		}
	default:
		return []problem{{"storage.driver", `want "sqlite" or "postgres"`}}
	}
	return nil
}
