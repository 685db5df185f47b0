package taskrouter

import (
	"net/http"
	"strings"
	"time"
)

// created writes a 201 with a view.
func created(w http.ResponseWriter, v map[string]any) error {
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func ok(w http.ResponseWriter, v map[string]any) error {
	writeJSON(w, http.StatusOK, v)
	return nil
}

func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- Activities

func (a *restAPI) activityView(req *http.Request, act Activity) map[string]any {
	return map[string]any{
		"sid": act.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": act.WorkspaceSID,
		"friendly_name": act.FriendlyName, "available": act.Available,
		"date_created": isoTime(act.Created), "date_updated": isoTime(act.Updated),
		"url":   a.wsURL(req, act.WorkspaceSID, "Activities", act.SID),
		"links": map[string]any{"workspace": a.wsURL(req, act.WorkspaceSID)},
	}
}

func (a *restAPI) activityRoutes(handle handleFunc, p string) {
	handle("GET "+p, func(w http.ResponseWriter, req *http.Request) error {
		list, err := a.r.Activities(req.PathValue("ws"))
		if err != nil {
			return err
		}
		var out []Activity
		name, avail := req.Form.Get("FriendlyName"), req.Form.Get("Available")
		for _, act := range list {
			if (name == "" || act.FriendlyName == name) && (avail == "" || strings.EqualFold(avail, boolString(act.Available))) {
				out = append(out, act)
			}
		}
		return a.page(w, req, "activities", listOf(out, func(x Activity) map[string]any { return a.activityView(req, x) }))
	})
	handle("POST "+p, func(w http.ResponseWriter, req *http.Request) error {
		avail, err := formBoolPtr(req.Form, "Available")
		if err != nil {
			return err
		}
		act, err := a.r.CreateActivity(req.PathValue("ws"), req.Form.Get("FriendlyName"), avail == nil || *avail)
		if err != nil {
			return err
		}
		return created(w, a.activityView(req, act))
	})
	handle("GET "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		act, err := a.r.Activity(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return ok(w, a.activityView(req, act))
	})
	handle("POST "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		act, err := a.r.UpdateActivity(req.PathValue("ws"), req.PathValue("sid"), req.Form.Get("FriendlyName"))
		if err != nil {
			return err
		}
		return ok(w, a.activityView(req, act))
	})
	handle("DELETE "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		return noContent(w, a.r.DeleteActivity(req.PathValue("ws"), req.PathValue("sid")))
	})
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// --- Task channels

func (a *restAPI) channelView(req *http.Request, c TaskChannel) map[string]any {
	return map[string]any{
		"sid": c.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": c.WorkspaceSID,
		"friendly_name": c.FriendlyName, "unique_name": c.UniqueName, "channel_optimized_routing": c.ChannelOptimizedRouting,
		"date_created": isoTime(c.Created), "date_updated": isoTime(c.Updated),
		"url":   a.wsURL(req, c.WorkspaceSID, "TaskChannels", c.SID),
		"links": map[string]any{"workspace": a.wsURL(req, c.WorkspaceSID)},
	}
}

func (a *restAPI) channelRoutes(handle handleFunc, p string) {
	handle("GET "+p, func(w http.ResponseWriter, req *http.Request) error {
		list, err := a.r.TaskChannels(req.PathValue("ws"))
		if err != nil {
			return err
		}
		return a.page(w, req, "channels", listOf(list, func(x TaskChannel) map[string]any { return a.channelView(req, x) }))
	})
	handle("POST "+p, func(w http.ResponseWriter, req *http.Request) error {
		opt, err := formBoolPtr(req.Form, "ChannelOptimizedRouting")
		if err != nil {
			return err
		}
		c, err := a.r.CreateTaskChannel(req.PathValue("ws"), req.Form.Get("FriendlyName"), req.Form.Get("UniqueName"), opt != nil && *opt)
		if err != nil {
			return err
		}
		return created(w, a.channelView(req, c))
	})
	handle("GET "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		c, err := a.r.TaskChannel(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return ok(w, a.channelView(req, c))
	})
	handle("POST "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		opt, err := formBoolPtr(req.Form, "ChannelOptimizedRouting")
		if err != nil {
			return err
		}
		c, err := a.r.UpdateTaskChannel(req.PathValue("ws"), req.PathValue("sid"), formStr(req.Form, "FriendlyName"), opt)
		if err != nil {
			return err
		}
		return ok(w, a.channelView(req, c))
	})
	handle("DELETE "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		return noContent(w, a.r.DeleteTaskChannel(req.PathValue("ws"), req.PathValue("sid")))
	})
}

// --- Workers

func (a *restAPI) workerView(req *http.Request, v WorkerView) map[string]any {
	u := a.wsURL(req, v.WorkspaceSID, "Workers", v.SID)
	return map[string]any{
		"sid": v.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": v.WorkspaceSID,
		"friendly_name": v.FriendlyName, "attributes": v.Attributes, "activity_sid": v.ActivitySID,
		"activity_name": v.ActivityName, "available": v.Available,
		"date_created": isoTime(v.Created), "date_updated": isoTime(v.Updated), "date_status_changed": isoTime(v.StatusChanged),
		"url": u,
		"links": map[string]any{"workspace": a.wsURL(req, v.WorkspaceSID), "activity": a.wsURL(req, v.WorkspaceSID, "Activities", v.ActivitySID),
			"reservations": u + "/Reservations", "channels": u + "/Channels", "worker_statistics": u + "/Statistics"},
	}
}

func (a *restAPI) workerChannelView(req *http.Request, c WorkerChannelView) map[string]any {
	return map[string]any{
		"sid": c.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": c.WorkspaceSID, "worker_sid": c.WorkerSID,
		"task_channel_sid": c.TaskChannelSID, "task_channel_unique_name": c.UniqueName,
		"configured_capacity": c.Capacity, "assigned_tasks": c.Assigned, "available": c.Available,
		"available_capacity_percentage": c.AvailableCapacityPct,
		"url":                           a.wsURL(req, c.WorkspaceSID, "Workers", c.WorkerSID, "Channels", c.SID),
	}
}

func workerParams(req *http.Request) WorkerParams {
	return WorkerParams{FriendlyName: formStr(req.Form, "FriendlyName"), ActivitySID: formStr(req.Form, "ActivitySid"),
		Attributes: formStr(req.Form, "Attributes")}
}

func (a *restAPI) workerRoutes(handle handleFunc, p string) {
	handle("GET "+p, func(w http.ResponseWriter, req *http.Request) error {
		f := req.Form
		avail, err := formBoolPtr(f, "Available")
		if err != nil {
			return err
		}
		list, err := a.r.Workers(req.PathValue("ws"), WorkerFilter{ActivitySID: f.Get("ActivitySid"), ActivityName: f.Get("ActivityName"),
			FriendlyName: f.Get("FriendlyName"), TaskQueueSID: f.Get("TaskQueueSid"), TaskQueueName: f.Get("TaskQueueName"),
			Available: avail, TargetWorkersExpression: f.Get("TargetWorkersExpression")})
		if err != nil {
			return err
		}
		return a.page(w, req, "workers", listOf(list, func(x WorkerView) map[string]any { return a.workerView(req, x) }))
	})
	handle("POST "+p, func(w http.ResponseWriter, req *http.Request) error {
		v, err := a.r.CreateWorker(req.PathValue("ws"), workerParams(req))
		if err != nil {
			return err
		}
		return created(w, a.workerView(req, v))
	})
	handle("GET "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		v, err := a.r.Worker(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return ok(w, a.workerView(req, v))
	})
	handle("POST "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		v, err := a.r.UpdateWorker(req.PathValue("ws"), req.PathValue("sid"), workerParams(req))
		if err != nil {
			return err
		}
		return ok(w, a.workerView(req, v))
	})
	handle("DELETE "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		return noContent(w, a.r.DeleteWorker(req.PathValue("ws"), req.PathValue("sid")))
	})
	handle("GET "+p+"/{sid}/Channels", func(w http.ResponseWriter, req *http.Request) error {
		list, err := a.r.WorkerChannels(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return a.page(w, req, "channels", listOf(list, func(x WorkerChannelView) map[string]any { return a.workerChannelView(req, x) }))
	})
	handle("GET "+p+"/{sid}/Channels/{ch}", func(w http.ResponseWriter, req *http.Request) error {
		c, err := a.r.WorkerChannel(req.PathValue("ws"), req.PathValue("sid"), req.PathValue("ch"))
		if err != nil {
			return err
		}
		return ok(w, a.workerChannelView(req, c))
	})
	handle("POST "+p+"/{sid}/Channels/{ch}", func(w http.ResponseWriter, req *http.Request) error {
		capacity, err := formIntPtr(req.Form, "Capacity")
		if err != nil {
			return err
		}
		avail, err := formBoolPtr(req.Form, "Available")
		if err != nil {
			return err
		}
		c, err := a.r.UpdateWorkerChannel(req.PathValue("ws"), req.PathValue("sid"), req.PathValue("ch"), capacity, avail)
		if err != nil {
			return err
		}
		return ok(w, a.workerChannelView(req, c))
	})
	a.reservationRoutes(handle, p+"/{sid}/Reservations", false)
}

// --- Task queues

func (a *restAPI) queueView(req *http.Request, q TaskQueueView) map[string]any {
	u := a.wsURL(req, q.WorkspaceSID, "TaskQueues", q.SID)
	names := a.r.activityNames(q.WorkspaceSID)
	return map[string]any{
		"sid": q.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": q.WorkspaceSID,
		"friendly_name": q.FriendlyName, "target_workers": q.TargetWorkers, "task_order": q.TaskOrder,
		"max_reserved_workers":     q.MaxReservedWorkers,
		"reservation_activity_sid": nullIfEmpty(q.ReservationActivitySID), "reservation_activity_name": nullIfEmpty(names[q.ReservationActivitySID]),
		"assignment_activity_sid": nullIfEmpty(q.AssignmentActivitySID), "assignment_activity_name": nullIfEmpty(names[q.AssignmentActivitySID]),
		"date_created": isoTime(q.Created), "date_updated": isoTime(q.Updated), "url": u,
		"links": map[string]any{"workspace": a.wsURL(req, q.WorkspaceSID), "statistics": u + "/Statistics",
			"real_time_statistics": u + "/RealTimeStatistics", "cumulative_statistics": u + "/CumulativeStatistics"},
	}
}

func queueParams(req *http.Request) (QueueParams, error) {
	f := req.Form
	p := QueueParams{FriendlyName: formStr(f, "FriendlyName"), TargetWorkers: formStr(f, "TargetWorkers"),
		TaskOrder: formStr(f, "TaskOrder"), ReservationActivitySID: formStr(f, "ReservationActivitySid"),
		AssignmentActivitySID: formStr(f, "AssignmentActivitySid")}
	var err error
	p.MaxReservedWorkers, err = formIntPtr(f, "MaxReservedWorkers")
	return p, err
}

func (a *restAPI) queueRoutes(handle handleFunc, p string) {
	handle("GET "+p, func(w http.ResponseWriter, req *http.Request) error {
		list, err := a.r.TaskQueues(req.PathValue("ws"), req.Form.Get("FriendlyName"))
		if err != nil {
			return err
		}
		return a.page(w, req, "task_queues", listOf(list, func(x TaskQueueView) map[string]any { return a.queueView(req, x) }))
	})
	handle("POST "+p, func(w http.ResponseWriter, req *http.Request) error {
		qp, err := queueParams(req)
		if err != nil {
			return err
		}
		q, err := a.r.CreateTaskQueue(req.PathValue("ws"), qp)
		if err != nil {
			return err
		}
		return created(w, a.queueView(req, TaskQueueView{TaskQueue: q}))
	})
	handle("GET "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		q, err := a.r.TaskQueue(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return ok(w, a.queueView(req, q))
	})
	handle("GET "+p+"/{sid}/RealTimeStatistics", func(w http.ResponseWriter, req *http.Request) error {
		q, err := a.r.TaskQueue(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return ok(w, map[string]any{"account_sid": a.r.opts.AccountSID, "workspace_sid": q.WorkspaceSID, "task_queue_sid": q.SID,
			"total_tasks": q.Waiting, "tasks_by_status": map[string]int{"pending": q.Waiting},
			"total_available_workers": q.AvailableWorkers, "total_eligible_workers": q.Workers,
			"url": a.wsURL(req, q.WorkspaceSID, "TaskQueues", q.SID, "RealTimeStatistics")})
	})
	handle("POST "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		qp, err := queueParams(req)
		if err != nil {
			return err
		}
		q, err := a.r.UpdateTaskQueue(req.PathValue("ws"), req.PathValue("sid"), qp)
		if err != nil {
			return err
		}
		return ok(w, a.queueView(req, TaskQueueView{TaskQueue: q}))
	})
	handle("DELETE "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		return noContent(w, a.r.DeleteTaskQueue(req.PathValue("ws"), req.PathValue("sid")))
	})
}

// --- Workflows

func (a *restAPI) workflowView(req *http.Request, wf Workflow) map[string]any {
	u := a.wsURL(req, wf.WorkspaceSID, "Workflows", wf.SID)
	return map[string]any{
		"sid": wf.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": wf.WorkspaceSID,
		"friendly_name": wf.FriendlyName, "configuration": wf.Configuration, "document_content_type": "application/json",
		"assignment_callback_url": nullIfEmpty(wf.AssignmentCallbackURL), "fallback_assignment_callback_url": nullIfEmpty(wf.FallbackAssignmentCallbackURL),
		"task_reservation_timeout": wf.TaskReservationTimeout,
		"date_created":             isoTime(wf.Created), "date_updated": isoTime(wf.Updated), "url": u,
		"links": map[string]any{"workspace": a.wsURL(req, wf.WorkspaceSID), "statistics": u + "/Statistics",
			"real_time_statistics": u + "/RealTimeStatistics", "cumulative_statistics": u + "/CumulativeStatistics"},
	}
}

func workflowParams(req *http.Request) (WorkflowParams, error) {
	f := req.Form
	p := WorkflowParams{FriendlyName: formStr(f, "FriendlyName"), Configuration: formStr(f, "Configuration"),
		AssignmentCallbackURL: formStr(f, "AssignmentCallbackUrl"), FallbackAssignmentCallbackURL: formStr(f, "FallbackAssignmentCallbackUrl"),
		ReEvaluateTasks: strings.EqualFold(f.Get("ReEvaluateTasks"), "true")}
	var err error
	p.TaskReservationTimeout, err = formIntPtr(f, "TaskReservationTimeout")
	return p, err
}

func (a *restAPI) workflowRoutes(handle handleFunc, p string) {
	handle("GET "+p, func(w http.ResponseWriter, req *http.Request) error {
		list, err := a.r.Workflows(req.PathValue("ws"), req.Form.Get("FriendlyName"))
		if err != nil {
			return err
		}
		return a.page(w, req, "workflows", listOf(list, func(x Workflow) map[string]any { return a.workflowView(req, x) }))
	})
	handle("POST "+p, func(w http.ResponseWriter, req *http.Request) error {
		wp, err := workflowParams(req)
		if err != nil {
			return err
		}
		wf, err := a.r.CreateWorkflow(req.PathValue("ws"), wp)
		if err != nil {
			return err
		}
		return created(w, a.workflowView(req, wf))
	})
	handle("GET "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		wf, err := a.r.Workflow(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return ok(w, a.workflowView(req, wf))
	})
	handle("POST "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		wp, err := workflowParams(req)
		if err != nil {
			return err
		}
		wf, err := a.r.UpdateWorkflow(req.PathValue("ws"), req.PathValue("sid"), wp)
		if err != nil {
			return err
		}
		return ok(w, a.workflowView(req, wf))
	})
	handle("DELETE "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		return noContent(w, a.r.DeleteWorkflow(req.PathValue("ws"), req.PathValue("sid")))
	})
}

// --- Tasks

func (a *restAPI) taskView(req *http.Request, t TaskView) map[string]any {
	u := a.wsURL(req, t.WorkspaceSID, "Tasks", t.SID)
	var reason any
	if t.Reason != "" {
		reason = t.Reason
	}
	return map[string]any{
		"sid": t.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": t.WorkspaceSID,
		"attributes": t.Attributes, "assignment_status": t.AssignmentStatus, "reason": reason,
		"priority": t.Priority, "timeout": t.Timeout, "age": t.Age,
		"task_queue_sid": nullIfEmpty(t.TaskQueueSID), "task_queue_friendly_name": nullIfEmpty(t.QueueName),
		"task_channel_sid": t.TaskChannelSID, "task_channel_unique_name": t.TaskChannelUniqueName,
		"workflow_sid": t.WorkflowSID, "workflow_friendly_name": t.WorkflowName,
		"routing_target": nullIfEmpty(t.RoutingTarget), "ignore_capacity": false, "addons": "{}",
		"task_queue_entered_date": isoTime(t.QueueEntered), "virtual_start_time": isoTime(t.VirtualStart),
		"date_created": isoTime(t.Created), "date_updated": isoTime(t.Updated), "url": u,
		"links": map[string]any{"workspace": a.wsURL(req, t.WorkspaceSID), "workflow": a.wsURL(req, t.WorkspaceSID, "Workflows", t.WorkflowSID),
			"task_queue": a.wsURL(req, t.WorkspaceSID, "TaskQueues", t.TaskQueueSID), "reservations": u + "/Reservations"},
	}
}

func taskParams(req *http.Request) (TaskParams, error) {
	f := req.Form
	p := TaskParams{WorkflowSID: formStr(f, "WorkflowSid"), Attributes: formStr(f, "Attributes"),
		TaskChannel: formStr(f, "TaskChannel"), AssignmentStatus: formStr(f, "AssignmentStatus"), Reason: formStr(f, "Reason")}
	var err error
	if p.Priority, err = formIntPtr(f, "Priority"); err != nil {
		return p, err
	}
	p.Timeout, err = formIntPtr(f, "Timeout")
	return p, err
}

func (a *restAPI) taskRoutes(handle handleFunc, p string) {
	handle("GET "+p, func(w http.ResponseWriter, req *http.Request) error {
		f := req.Form
		var statuses []string
		for _, s := range f["AssignmentStatus"] {
			for part := range strings.SplitSeq(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					statuses = append(statuses, part)
				}
			}
		}
		list, err := a.r.Tasks(req.PathValue("ws"), TaskFilter{AssignmentStatus: statuses, WorkflowSID: f.Get("WorkflowSid"),
			TaskQueueSID: f.Get("TaskQueueSid"), TaskQueueName: f.Get("TaskQueueName"), Evaluate: f.Get("EvaluateTaskAttributes"),
			TaskChannel: f.Get("TaskChannel")})
		if err != nil {
			return err
		}
		if f.Get("Ordering") != "DateCreated:asc" && f.Get("Ordering") != "Priority:desc,DateCreated:asc" {
			reverse(list) // Twilio lists newest first by default
		}
		return a.page(w, req, "tasks", listOf(list, func(x TaskView) map[string]any { return a.taskView(req, x) }))
	})
	handle("POST "+p, func(w http.ResponseWriter, req *http.Request) error {
		tp, err := taskParams(req)
		if err != nil {
			return err
		}
		if tp.AssignmentStatus != nil {
			return errInvalid("AssignmentStatus cannot be set when creating a task")
		}
		t, err := a.r.CreateTask(req.PathValue("ws"), tp)
		if err != nil {
			return err
		}
		return created(w, a.taskView(req, t))
	})
	handle("GET "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		t, err := a.r.Task(req.PathValue("ws"), req.PathValue("sid"))
		if err != nil {
			return err
		}
		return ok(w, a.taskView(req, t))
	})
	handle("POST "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		tp, err := taskParams(req)
		if err != nil {
			return err
		}
		if tp.WorkflowSID != nil {
			return errInvalid("WorkflowSid cannot change")
		}
		t, err := a.r.UpdateTask(req.PathValue("ws"), req.PathValue("sid"), tp)
		if err != nil {
			return err
		}
		return ok(w, a.taskView(req, t))
	})
	handle("DELETE "+p+"/{sid}", func(w http.ResponseWriter, req *http.Request) error {
		return noContent(w, a.r.DeleteTask(req.PathValue("ws"), req.PathValue("sid")))
	})
	a.reservationRoutes(handle, p+"/{sid}/Reservations", true)
}

// --- Reservations (under a task or a worker)

func (a *restAPI) reservationView(req *http.Request, res Reservation, underTask bool) map[string]any {
	u := a.wsURL(req, res.WorkspaceSID, "Tasks", res.TaskSID, "Reservations", res.SID)
	if !underTask {
		u = a.wsURL(req, res.WorkspaceSID, "Workers", res.WorkerSID, "Reservations", res.SID)
	}
	return map[string]any{
		"sid": res.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": res.WorkspaceSID,
		"task_sid": res.TaskSID, "worker_sid": res.WorkerSID, "worker_name": res.WorkerName,
		"reservation_status": res.Status, "date_created": isoTime(res.Created), "date_updated": isoTime(res.Updated),
		"url": u,
		"links": map[string]any{"task": a.wsURL(req, res.WorkspaceSID, "Tasks", res.TaskSID),
			"worker": a.wsURL(req, res.WorkspaceSID, "Workers", res.WorkerSID), "workspace": a.wsURL(req, res.WorkspaceSID)},
	}
}

func (a *restAPI) reservationRoutes(handle handleFunc, p string, underTask bool) {
	owner := func(req *http.Request) (task, worker string) {
		if underTask {
			return req.PathValue("sid"), ""
		}
		return "", req.PathValue("sid")
	}
	handle("GET "+p, func(w http.ResponseWriter, req *http.Request) error {
		t, wk := owner(req)
		list, err := a.r.Reservations(req.PathValue("ws"), t, wk, req.Form.Get("ReservationStatus"))
		if err != nil {
			return err
		}
		return a.page(w, req, "reservations", listOf(list, func(x Reservation) map[string]any { return a.reservationView(req, x, underTask) }))
	})
	get := func(req *http.Request) (Reservation, error) {
		res, err := a.r.Reservation(req.PathValue("ws"), req.PathValue("res"))
		if err != nil {
			return res, err
		}
		if t, wk := owner(req); t != "" && res.TaskSID != t || wk != "" && res.WorkerSID != wk {
			return res, errNotFound("Reservation", res.SID)
		}
		return res, nil
	}
	handle("GET "+p+"/{res}", func(w http.ResponseWriter, req *http.Request) error {
		res, err := get(req)
		if err != nil {
			return err
		}
		return ok(w, a.reservationView(req, res, underTask))
	})
	handle("POST "+p+"/{res}", func(w http.ResponseWriter, req *http.Request) error {
		if _, err := get(req); err != nil {
			return err
		}
		rp, err := reservationParams(req)
		if err != nil {
			return err
		}
		res, err := a.r.UpdateReservation(req.PathValue("ws"), req.PathValue("res"), rp)
		if err != nil {
			return err
		}
		return ok(w, a.reservationView(req, res, underTask))
	})
}

func reservationParams(req *http.Request) (ReservationParams, error) {
	f := req.Form
	p := ReservationParams{Status: f.Get("ReservationStatus"), WorkerActivitySID: f.Get("WorkerActivitySid")}
	in := Assignment{Instruction: f.Get("Instruction")}
	switch in.Instruction {
	case "":
	case "accept":
		in.Instruction, p.Status = "", ResAccepted
	case "reject":
		in.Instruction, p.Status = "", ResRejected
	case "dequeue":
		in.To, in.From, in.PostWorkActivitySID = f.Get("DequeueTo"), f.Get("DequeueFrom"), f.Get("DequeuePostWorkActivitySid")
		in.Timeout, _ = formInt(f, "DequeueTimeout", 0)
	case "call":
		in.To, in.From, in.URL = f.Get("CallTo"), f.Get("CallFrom"), f.Get("CallUrl")
		in.Timeout, _ = formInt(f, "CallTimeout", 0)
		if in.URL == "" {
			return p, errInvalid("CallUrl is required for the call instruction")
		}
	case "conference":
		// Flex's default: the caller and the worker (To, else its
		// contact_uri) in a conference room named after the task (package
		// ivr's agent rooms), with the room settings that map onto it
		// (conference_instruction.go).
		in.To, in.From = f.Get("To"), f.Get("From")
		in.Timeout, _ = formInt(f, "Timeout", 0)
		var err error
		if in.Conference, err = conferenceOptions(f); err != nil {
			return p, err
		}
	case "redirect":
		in.URL = f.Get("RedirectUrl")
		if in.URL == "" {
			return p, errInvalid("RedirectUrl is required for the redirect instruction")
		}
	default:
		return p, errInvalid("Instruction %q is not supported here (accept, reject, dequeue, call, redirect, conference)", in.Instruction)
	}
	if p.WorkerActivitySID == "" {
		p.WorkerActivitySID = f.Get("PostWorkActivitySid")
	}
	p.Instruction = in
	return p, nil
}

// --- Events

func (a *restAPI) eventView(req *http.Request, ev Event) map[string]any {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	return map[string]any{
		"sid": ev.SID, "account_sid": a.r.opts.AccountSID, "workspace_sid": ev.WorkspaceSID,
		"event_type": ev.EventType, "resource_type": ev.ResourceType, "resource_sid": ev.ResourceSID,
		"resource_url": nil, "actor_type": ev.ActorType, "actor_sid": ev.ActorSID, "actor_url": a.wsURL(req, ev.WorkspaceSID),
		"description": ev.Description, "event_data": data, "event_date": isoTime(ev.Date),
		"event_date_ms": ev.Date.UnixMilli(), "source": ev.Source, "source_ip_address": nil,
		"url": a.wsURL(req, ev.WorkspaceSID, "Events", ev.SID),
	}
}

func (a *restAPI) listEvents(w http.ResponseWriter, req *http.Request) error {
	f := req.Form
	ef := EventFilter{EventType: f.Get("EventType"), ResourceSID: f.Get("Sid"), TaskSID: f.Get("TaskSid"), WorkerSID: f.Get("WorkerSid"),
		WorkflowSID: f.Get("WorkflowSid"), TaskQueueSID: f.Get("TaskQueueSid"), ReservationSID: f.Get("ReservationSid"),
		TaskChannel: f.Get("TaskChannel")}
	if m, err := formInt(f, "Minutes", 0); err != nil {
		return err
	} else if m > 0 {
		ef.Since = a.r.now().Add(-time.Duration(m) * time.Minute)
	}
	for key, dst := range map[string]*time.Time{"StartDate": &ef.Since, "EndDate": &ef.Until} {
		if s := f.Get(key); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return errInvalid("%s must be an ISO 8601 date-time, not %q", key, s)
			}
			*dst = t
		}
	}
	list, err := a.r.Events(req.PathValue("ws"), ef)
	if err != nil {
		return err
	}
	return a.page(w, req, "events", listOf(list, func(x Event) map[string]any { return a.eventView(req, x) }))
}

func (a *restAPI) fetchEvent(w http.ResponseWriter, req *http.Request) error {
	ev, err := a.r.Event(req.PathValue("ws"), req.PathValue("ev"))
	if err != nil {
		return err
	}
	return ok(w, a.eventView(req, ev))
}
