package web

// relayDesk sends the agent's TaskRouter desktop to the page at sign-in
// and whenever it changes, until the connection ends.
func (c *agentConn) relayDesk(ds DeskSession) {
	for {
		snap, err := ds.Snapshot()
		if err != nil {
			c.log.Warn("agent desktop", "err", err)
		} else {
			c.send(snap)
		}
		select {
		case <-c.ctx.Done():
			return
		case <-ds.Changed():
		}
	}
}

// deskAction runs a "task" request of the page.
func (c *agentConn) deskAction(msg clientMessage) {
	if c.desk == nil {
		c.sendError(msgTask, "", "this gateway has no TaskRouter desktop for you")
		return
	}
	do := func() error { return c.desk.Do(msg.Action, msg.ReservationSID, msg.Body, msg.Activity) }
	if msg.TaskSID != "" { // a call action
		do = func() error { return c.desk.Call(msg.Action, msg.TaskSID, msg.Target) }
	}
	if err := do(); err != nil {
		c.sendError(msgTask, "", err.Error())
	}
}

// deskPresence mirrors the presence switch onto the TaskRouter activity.
func (c *agentConn) deskPresence(available bool) {
	if c.desk == nil {
		return
	}
	name := "Offline"
	if available {
		name = "Available"
	}
	if err := c.desk.Do("activity", "", "", name); err != nil {
		c.log.Info("agent desktop: activity", "err", err)
	}
}
