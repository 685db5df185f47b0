// Package studio runs Twilio Studio flows (the JSON Studio exports) for
// voice calls, as a TwiML application served by the gateway itself.
//
// # Flows
//
// [Parse] reads a flow definition in the current format or the legacy
// (pre-2019) one, which it maps to the current format. Widget properties
// are kept exactly as read ([Properties]), so a flow written back with
// encoding/json round-trips, offsets and string-or-number values included.
// [Validate] reports every problem with the state and property it concerns;
// [ValidateFile] does the same for a file (`voxgate flow validate FILE`).
//
// # Running a flow for a call
//
// An [Executor] serves POST|GET /studio/{FlowSid} ([Executor.Handler]). Point
// a number at a flow by giving the call engine an application whose voice
// URL is [Executor.VoiceURL] (and, so that executions end with the call and
// failed <Redirect>s reach add-twiml-redirect's "fail", the same URL as the
// status callback and fallback URL):
//
//	x := studio.NewExecutor(studio.Options{Flows: flows, PublicURL: "http://gw:8080"})
//	mux.Handle("/studio/", x.Handler())
//	app := ivr.App{VoiceURL: x.VoiceURL(flowSID), StatusCallback: x.VoiceURL(flowSID),
//		FallbackURL: x.VoiceURL(flowSID)}
//
// The first request for a CallSid starts an execution at the trigger
// (incomingCall, with trigger.call.* from the request). Widgets that do not
// touch the call (split-based-on, set-variables, make-http-request,
// run-function, run-subflow) run in process; the first call widget answers
// with its TwiML, whose action or closing <Redirect> points back at the flow
// URL with ?FlowEvent=<event or "action">&Step=<widget>. The execution waits
// on that widget until the callback arrives, then picks the widget's
// transition from the callback's parameters (Digits → keypress,
// DialCallStatus → callCompleted, RecordingUrl → recordingComplete,
// QueueResult → callComplete/failedToEnqueue/callFailure,
// FlowEvent=return → return, …) and stores them under widgets.<name>.
// The end of a branch answers <Hangup/>.
//
// # REST-started executions and outgoing calls
//
// [Executor.StartExecution] (the API's POST /v2/Flows/{FW}/Executions)
// stores the execution and returns; the flow then runs from the trigger's
// incomingRequest on a goroutine the executor owns, with no call. A
// make-outgoing-call-v2 (or v1) widget places the call through
// [Options.Calls], with the flow URL (naming the execution and widget) as
// its answer URL and status callback. Answered, the flow goes on on that
// call; busy, no-answer or failed (status callback, [Executor.EndCall],
// or a placing error), it goes on without one, in the background. A call
// widget reached with no call ends the execution with an error.
//
// An add-twiml-redirect with a timeout arms a timer (with [Options.Calls]
// set): at the deadline, if the execution still waits there, it takes
// "timeout"; a path reaching a call widget redirects the live call to that
// widget's TwiML ([CallControl.RedirectCall]), a path reaching the end
// leaves the call with the external TwiML. Timers live in the process;
// [Executor.Close] stops them and waits for the background work.
//
// Every string property is rendered with Liquid (github.com/osteele/liquid)
// over the execution context: trigger, widgets, flow (sid, flow_sid,
// channel, data, variables) and contact.
//
// Executions end at the end of a branch, when a request reports a final
// CallStatus (status callback, or an action requested after the caller hung
// up), when the gateway calls [Executor.EndCall], on [Executor.End], when a
// limit ([Limits]) is hit (the caller hears an error message), or when
// [Executor.Sweep] finds them too old. Each transition is recorded as a
// [Step] with a snapshot of the context, for the Studio REST API.
package studio
