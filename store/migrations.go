package store

// migrations builds the schema, oldest first. Append new ones with the next
// version; never change one that has shipped (databases in the field have
// already run it).
var migrations = []migration{
	{version: 1, name: "calls", stmts: []string{
		`CREATE TABLE calls (
			sid             TEXT PRIMARY KEY,
			account_sid     TEXT NOT NULL,
			parent_call_sid TEXT NOT NULL DEFAULT '',
			from_number     TEXT NOT NULL DEFAULT '',
			to_number       TEXT NOT NULL DEFAULT '',
			from_formatted  TEXT NOT NULL DEFAULT '',
			to_formatted    TEXT NOT NULL DEFAULT '',
			direction       TEXT NOT NULL DEFAULT '',
			status          TEXT NOT NULL,
			start_time      INTEGER,
			end_time        INTEGER,
			duration        INTEGER NOT NULL DEFAULT 0,
			answered_by     TEXT NOT NULL DEFAULT '',
			forwarded_from  TEXT NOT NULL DEFAULT '',
			caller_name     TEXT NOT NULL DEFAULT '',
			queue_time      INTEGER NOT NULL DEFAULT 0,
			trunk_sid       TEXT NOT NULL DEFAULT '',
			sip_call_id     TEXT NOT NULL DEFAULT '',
			date_created    INTEGER NOT NULL,
			date_updated    INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX calls_by_created ON calls (date_created DESC, sid DESC)`,
		`CREATE INDEX calls_by_account ON calls (account_sid, date_created DESC, sid DESC)`,
		`CREATE INDEX calls_by_parent ON calls (parent_call_sid, date_created DESC, sid DESC)`,
		`CREATE INDEX calls_by_to ON calls (to_number, date_created DESC, sid DESC)`,
		`CREATE INDEX calls_by_from ON calls (from_number, date_created DESC, sid DESC)`,
	}},
	{version: 2, name: "recordings", stmts: []string{
		`CREATE TABLE recordings (
			sid            TEXT PRIMARY KEY,
			account_sid    TEXT NOT NULL,
			call_sid       TEXT NOT NULL DEFAULT '',
			conference_sid TEXT NOT NULL DEFAULT '',
			status         TEXT NOT NULL,
			source         TEXT NOT NULL DEFAULT '',
			channels       INTEGER NOT NULL DEFAULT 1,
			duration       INTEGER NOT NULL DEFAULT 0,
			start_time     INTEGER,
			error_code     INTEGER NOT NULL DEFAULT 0,
			path           TEXT NOT NULL DEFAULT '',
			deleted        INTEGER NOT NULL DEFAULT 0,
			date_created   INTEGER NOT NULL,
			date_updated   INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX recordings_by_created ON recordings (date_created DESC, sid DESC)`,
		`CREATE INDEX recordings_by_account ON recordings (account_sid, date_created DESC, sid DESC)`,
		`CREATE INDEX recordings_by_call ON recordings (call_sid, date_created DESC, sid DESC)`,
		`CREATE INDEX recordings_by_conference ON recordings (conference_sid, date_created DESC, sid DESC)`,
	}},
	{version: 3, name: "queues and queue members", stmts: []string{
		`CREATE TABLE queues (
			sid           TEXT PRIMARY KEY,
			account_sid   TEXT NOT NULL,
			friendly_name TEXT NOT NULL,
			max_size      INTEGER NOT NULL,
			date_created  INTEGER NOT NULL,
			date_updated  INTEGER NOT NULL,
			UNIQUE (account_sid, friendly_name)
		) STRICT`,
		`CREATE INDEX queues_by_created ON queues (date_created DESC, sid DESC)`,
		`CREATE TABLE queue_members (
			queue_sid     TEXT NOT NULL REFERENCES queues (sid) ON DELETE CASCADE,
			call_sid      TEXT NOT NULL,
			date_enqueued INTEGER NOT NULL,
			date_left     INTEGER,
			result        TEXT NOT NULL DEFAULT '',
			wait_time     INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (queue_sid, call_sid, date_enqueued)
		) STRICT`,
		`CREATE INDEX queue_members_by_enqueued ON queue_members (date_enqueued DESC, queue_sid DESC, call_sid DESC)`,
		`CREATE INDEX queue_members_by_queue ON queue_members (queue_sid, date_enqueued DESC, call_sid DESC)`,
		`CREATE INDEX queue_members_by_call ON queue_members (call_sid, date_enqueued DESC)`,
	}},
	{version: 4, name: "studio flows, revisions, executions and steps", stmts: []string{
		`CREATE TABLE flows (
			sid          TEXT PRIMARY KEY,
			account_sid  TEXT NOT NULL,
			revision     INTEGER NOT NULL,
			date_created INTEGER NOT NULL,
			date_updated INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX flows_by_created ON flows (date_created DESC, sid DESC)`,
		`CREATE TABLE flow_revisions (
			flow_sid       TEXT NOT NULL REFERENCES flows (sid) ON DELETE CASCADE,
			revision       INTEGER NOT NULL,
			friendly_name  TEXT NOT NULL,
			status         TEXT NOT NULL,
			definition     TEXT NOT NULL,
			commit_message TEXT NOT NULL DEFAULT '',
			valid          INTEGER NOT NULL,
			errors         TEXT NOT NULL DEFAULT '[]',
			warnings       TEXT NOT NULL DEFAULT '[]',
			date_created   INTEGER NOT NULL,
			PRIMARY KEY (flow_sid, revision)
		) STRICT`,
		`CREATE TABLE flow_executions (
			sid             TEXT PRIMARY KEY,
			flow_sid        TEXT NOT NULL,
			status          TEXT NOT NULL,
			call_sid        TEXT NOT NULL DEFAULT '',
			contact_address TEXT NOT NULL DEFAULT '',
			body            TEXT NOT NULL,
			date_created    INTEGER NOT NULL,
			date_updated    INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX flow_executions_by_flow ON flow_executions (flow_sid, date_created DESC, sid DESC)`,
		`CREATE INDEX flow_executions_active_call ON flow_executions (call_sid) WHERE status = 'active'`,
		`CREATE TABLE flow_steps (
			sid           TEXT PRIMARY KEY,
			execution_sid TEXT NOT NULL REFERENCES flow_executions (sid) ON DELETE CASCADE,
			seq           INTEGER NOT NULL,
			body          TEXT NOT NULL,
			UNIQUE (execution_sid, seq)
		) STRICT`,
	}},
	{version: 5, name: "studio flow test users", stmts: []string{
		`CREATE TABLE flow_test_users (
			flow_sid TEXT NOT NULL REFERENCES flows (sid) ON DELETE CASCADE,
			position INTEGER NOT NULL,
			identity TEXT NOT NULL,
			PRIMARY KEY (flow_sid, position),
			UNIQUE (flow_sid, identity)
		) STRICT`,
	}},
	{version: 6, name: "messages, their segments, opt-outs and messaging alerts", stmts: []string{
		`CREATE TABLE messages (
			sid                    TEXT PRIMARY KEY,
			account_sid            TEXT NOT NULL,
			direction              TEXT NOT NULL,
			from_number            TEXT NOT NULL DEFAULT '',
			to_number              TEXT NOT NULL DEFAULT '',
			body                   TEXT NOT NULL DEFAULT '',
			media_urls             TEXT NOT NULL DEFAULT '',
			status                 TEXT NOT NULL,
			num_segments           INTEGER NOT NULL DEFAULT 1,
			error_code             INTEGER NOT NULL DEFAULT 0,
			error_message          TEXT NOT NULL DEFAULT '',
			status_callback        TEXT NOT NULL DEFAULT '',
			status_callback_method TEXT NOT NULL DEFAULT '',
			trunk                  TEXT NOT NULL DEFAULT '',
			pending                INTEGER NOT NULL DEFAULT 0,
			attempts               INTEGER NOT NULL DEFAULT 0,
			raw_dlr_done_date      TEXT NOT NULL DEFAULT '',
			date_sent              INTEGER,
			date_created           INTEGER NOT NULL,
			date_updated           INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX messages_by_created ON messages (date_created DESC, sid DESC)`,
		`CREATE INDEX messages_by_to ON messages (to_number, date_created DESC, sid DESC)`,
		`CREATE INDEX messages_by_from ON messages (from_number, date_created DESC, sid DESC)`,
		`CREATE INDEX messages_unfinished ON messages (date_created) WHERE status IN ('queued', 'sending') OR pending = 1`,
		`CREATE TABLE message_segments (
			message_sid TEXT NOT NULL REFERENCES messages (sid) ON DELETE CASCADE,
			seq         INTEGER NOT NULL,
			provider_id TEXT NOT NULL,
			status      TEXT NOT NULL DEFAULT 'sent',
			PRIMARY KEY (message_sid, seq)
		) STRICT`,
		`CREATE INDEX message_segments_by_provider_id ON message_segments (provider_id)`,
		`CREATE TABLE opt_outs (
			number       TEXT NOT NULL,
			contact      TEXT NOT NULL,
			date_created INTEGER NOT NULL,
			PRIMARY KEY (number, contact)
		) STRICT`,
		`CREATE TABLE messaging_alerts (
			sid          TEXT PRIMARY KEY,
			error_code   INTEGER NOT NULL,
			log_level    TEXT NOT NULL,
			message_sid  TEXT NOT NULL DEFAULT '',
			url          TEXT NOT NULL DEFAULT '',
			detail       TEXT NOT NULL DEFAULT '',
			date_created INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX messaging_alerts_by_message ON messaging_alerts (message_sid, date_created)`,
	}},
	{version: 7, name: "serverless services, functions, assets, versions, builds, environments, deployments and variables", stmts: []string{
		`CREATE TABLE serverless_resources (
			sid          TEXT PRIMARY KEY,
			kind         TEXT NOT NULL,
			parent_sid   TEXT NOT NULL DEFAULT '',
			body         BLOB NOT NULL,
			date_created INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX serverless_by_kind ON serverless_resources (kind, parent_sid, date_created, sid)`,
	}},
	{version: 8, name: "taskrouter resources", stmts: []string{
		`CREATE TABLE taskrouter_records (
			sid           TEXT PRIMARY KEY,
			workspace_sid TEXT NOT NULL,
			kind          TEXT NOT NULL,
			body          BLOB NOT NULL,
			date_updated  INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX taskrouter_records_by_workspace ON taskrouter_records (workspace_sid, kind)`,
	}},
	{version: 9, name: "conferences", stmts: []string{
		`CREATE TABLE conferences (
			sid             TEXT PRIMARY KEY,
			account_sid     TEXT NOT NULL,
			friendly_name   TEXT NOT NULL,
			status          TEXT NOT NULL,
			reason_ended    TEXT NOT NULL DEFAULT '',
			call_sid_ending TEXT NOT NULL DEFAULT '',
			date_created    INTEGER NOT NULL,
			date_updated    INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX conferences_by_account ON conferences (account_sid, date_created DESC, sid DESC)`,
	}},
	{version: 10, name: "call events (the console's call timeline)", stmts: []string{
		`CREATE TABLE call_events (
			id       INTEGER PRIMARY KEY AUTOINCREMENT,
			call_sid TEXT NOT NULL,
			at       INTEGER NOT NULL,
			kind     TEXT NOT NULL,
			code     INTEGER NOT NULL DEFAULT 0,
			detail   TEXT NOT NULL DEFAULT '{}'
		) STRICT`,
		`CREATE INDEX call_events_by_call ON call_events (call_sid, id)`,
		`CREATE INDEX call_events_by_at ON call_events (at)`,
	}},
	{version: 11, name: "calls and recordings name the node that owns them", stmts: []string{
		`ALTER TABLE calls ADD COLUMN node_id TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE recordings ADD COLUMN node_id TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX calls_unfinished ON calls (node_id, date_created) WHERE status IN ('queued', 'ringing', 'in-progress')`,
	}},
	{version: 12, name: "cluster membership, shared callback journal, messages name their node, timer claims", stmts: []string{
		`CREATE TABLE cluster_nodes (
			node_id     TEXT PRIMARY KEY,
			state       TEXT NOT NULL,
			started     INTEGER NOT NULL,
			last_seen   INTEGER NOT NULL,
			taken_by    TEXT NOT NULL DEFAULT '',
			claim_until INTEGER NOT NULL DEFAULT 0
		) STRICT`,
		`CREATE TABLE call_callbacks (
			call_sid     TEXT PRIMARY KEY,
			url          TEXT NOT NULL,
			method       TEXT NOT NULL DEFAULT '',
			events       TEXT NOT NULL DEFAULT '',
			node_id      TEXT NOT NULL DEFAULT '',
			date_created INTEGER NOT NULL
		) STRICT`,
		`ALTER TABLE messages ADD COLUMN node_id TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX recordings_unfinished ON recordings (node_id) WHERE status IN ('in-progress', 'paused', 'processing')`,
		`CREATE TABLE timer_claims (
			timer        TEXT PRIMARY KEY,
			node_id      TEXT NOT NULL DEFAULT '',
			date_created INTEGER NOT NULL
		) STRICT`,
	}},
	{version: 13, name: "cluster state: the TaskRouter leader and agent presence", stmts: []string{
		`CREATE TABLE cluster_leaders (
			name         TEXT PRIMARY KEY,
			node_id      TEXT NOT NULL,
			http_url     TEXT NOT NULL,
			term         INTEGER NOT NULL,
			date_updated INTEGER NOT NULL
		) STRICT`,
		`CREATE TABLE agent_presence (
			agent_id     TEXT PRIMARY KEY,
			node_id      TEXT NOT NULL,
			session      TEXT NOT NULL,
			sip_uri      TEXT NOT NULL,
			date_updated INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX agent_presence_by_node ON agent_presence (node_id)`,
	}},
}
