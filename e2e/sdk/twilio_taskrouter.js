// Drives Voxgate's TaskRouter API (/v1/Workspaces) with the twilio npm
// package's TaskRouter client, unchanged but for the base URL: creates a
// workspace, queues, a skills-based workflow and a worker, routes a task,
// accepts and completes it, and reads tasks, reservations and events.
// Prints one JSON line with what it saw; exits non-zero on any failure.
//
// env: BASE (gateway URL), SID, TOKEN, EVENTS (event callback URL)
const twilio = require('twilio');

const { BASE, SID, TOKEN, EVENTS } = process.env;

class LocalClient {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(opts) {
    const u = new URL(opts.uri);
    opts.uri = BASE + u.pathname + u.search;
    return this.inner.request(opts);
  }
}

async function main() {
  const client = twilio(SID, TOKEN, { httpClient: new LocalClient() });
  const tr = client.taskrouter.v1;
  const out = {};

  const ws = await tr.workspaces.create({ friendlyName: 'node-' + Date.now(), eventCallbackUrl: EVENTS });
  out.workspace = { sid: ws.sid, multiTaskEnabled: ws.multiTaskEnabled, defaultActivityName: ws.defaultActivityName };
  const acts = await tr.workspaces(ws.sid).activities.list();
  const available = acts.find((a) => a.friendlyName === 'Available');
  out.activities = acts.map((a) => a.friendlyName).sort();
  const channels = await tr.workspaces(ws.sid).taskChannels.list();
  out.channels = channels.map((c) => c.uniqueName).sort();

  const support = await tr.workspaces(ws.sid).taskQueues.create({
    friendlyName: 'support', targetWorkers: "routing.skills HAS 'support'",
  });
  const everyone = await tr.workspaces(ws.sid).taskQueues.create({ friendlyName: 'everyone', targetWorkers: '1==1' });
  out.queue = { targetWorkers: support.targetWorkers, taskOrder: support.taskOrder, maxReservedWorkers: support.maxReservedWorkers };

  try {
    await tr.workspaces(ws.sid).taskQueues.create({ friendlyName: 'bad', targetWorkers: "skills HAS 'a' AND" });
    out.badQueue = 'accepted';
  } catch (e) {
    out.badQueue = { status: e.status, code: e.code, message: e.message };
  }

  const config = {
    task_routing: {
      filters: [{
        filter_friendly_name: 'Support',
        expression: "type == 'support' AND priority_level IN ['gold', 'silver']",
        targets: [{ queue: support.sid, timeout: 30, priority: 5 }, { queue: everyone.sid }],
      }],
      default_filter: { queue: everyone.sid },
    },
  };
  const wf = await tr.workspaces(ws.sid).workflows.create({
    friendlyName: 'routing', configuration: JSON.stringify(config), taskReservationTimeout: 60,
  });
  out.workflow = { sid: wf.sid, taskReservationTimeout: wf.taskReservationTimeout, configuration: JSON.parse(wf.configuration) };
  try {
    const bad = JSON.parse(JSON.stringify(config));
    bad.task_routing.filters[0].expression = "type == 'support' AND (x = 1";
    await tr.workspaces(ws.sid).workflows.create({ friendlyName: 'bad', configuration: JSON.stringify(bad) });
    out.badWorkflow = 'accepted';
  } catch (e) {
    out.badWorkflow = { status: e.status, code: e.code, message: e.message };
  }

  const alice = await tr.workspaces(ws.sid).workers.create({
    friendlyName: 'alice',
    attributes: JSON.stringify({ routing: { skills: ['support'] }, contact_uri: 'client:alice' }),
    activitySid: available.sid,
  });
  out.worker = { activityName: alice.activityName, available: alice.available };
  await tr.workspaces(ws.sid).workers(alice.sid).workerChannels('chat').update({ capacity: 3 });
  const wchs = await tr.workspaces(ws.sid).workers(alice.sid).workerChannels.list();
  out.chatCapacity = wchs.find((c) => c.taskChannelUniqueName === 'chat').configuredCapacity;

  const task = await tr.workspaces(ws.sid).tasks.create({
    workflowSid: wf.sid, attributes: JSON.stringify({ type: 'support', priority_level: 'gold' }), taskChannel: 'voice',
  });
  out.created = { status: task.assignmentStatus, queue: task.taskQueueFriendlyName, priority: task.priority, channel: task.taskChannelUniqueName };
  const reservations = await tr.workspaces(ws.sid).tasks(task.sid).reservations.list();
  out.reservations = reservations.map((r) => ({ status: r.reservationStatus, worker: r.workerName }));
  await tr.workspaces(ws.sid).tasks(task.sid).reservations(reservations[0].sid).update({ reservationStatus: 'accepted' });
  const assigned = await tr.workspaces(ws.sid).tasks(task.sid).fetch();
  out.assigned = assigned.assignmentStatus;
  const wres = await tr.workspaces(ws.sid).workers(alice.sid).reservations.list();
  out.workerReservations = wres.map((r) => r.reservationStatus);
  await tr.workspaces(ws.sid).tasks(task.sid).update({ assignmentStatus: 'wrapping' });
  const done = await tr.workspaces(ws.sid).tasks(task.sid).update({ assignmentStatus: 'completed', reason: 'resolved' });
  out.completed = { status: done.assignmentStatus, reason: done.reason };

  const other = await tr.workspaces(ws.sid).tasks.create({ workflowSid: wf.sid, attributes: JSON.stringify({ type: 'billing' }) });
  out.other = { status: other.assignmentStatus, queue: other.taskQueueFriendlyName };
  const canceled = await tr.workspaces(ws.sid).tasks(other.sid).update({ assignmentStatus: 'canceled', reason: 'caller hung up' });
  out.canceled = { status: canceled.assignmentStatus, reason: canceled.reason };

  const tasks = await tr.workspaces(ws.sid).tasks.list();
  out.tasks = tasks.length;
  const completed = await tr.workspaces(ws.sid).tasks.list({ assignmentStatus: ['completed'] });
  out.completedTasks = completed.map((t) => t.sid);
  out.taskSid = task.sid;
  const workers = await tr.workspaces(ws.sid).workers.list({ targetWorkersExpression: "routing.skills HAS 'support'" });
  out.workers = workers.map((w) => w.friendlyName);
  const events = await tr.workspaces(ws.sid).events.list({ taskSid: task.sid, pageSize: 100 });
  out.events = [...new Set(events.map((e) => e.eventType))].sort();
  const one = await tr.workspaces(ws.sid).events(events[0].sid).fetch();
  out.event = { type: one.eventType, resourceType: one.resourceType, hasData: typeof one.eventData === 'object' };

  try {
    await tr.workspaces(ws.sid).tasks('WT00000000000000000000000000000000').fetch();
  } catch (e) {
    out.notFound = { status: e.status, code: e.code };
  }
  const all = await tr.workspaces.list();
  out.listed = all.some((w) => w.sid === ws.sid);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
