// Package web serves the browser agent's softphone: the page (plain HTML,
// JavaScript and CSS embedded in the binary, no build step) and the
// WebSocket that carries the agent's presence, offers and WebRTC
// signalling. Audio goes over a media/webrtc Leg handed to the queue
// Manager on accept.
//
// Routes (NewHandler):
//
//	GET /agent             the softphone page
//	GET /agent/agent.js    its script
//	GET /agent/agent.css   its style sheet
//	GET /agent/ws          the WebSocket (same origin only)
//
// # Protocol
//
// One JSON object per WebSocket text message, each with a "type". The
// page speaks first, and nothing but "signin" is accepted before sign-in
// succeeds. Times are in seconds.
//
// Page to gateway:
//
//	{"type":"signin","id":"alice","secret":"…"}
//	    -> {"type":"ok","for":"signin","agent":{"id","name","queues":[…]}}
//	    or {"type":"error","for":"signin","message":"…"}
//	{"type":"available","value":true|false}
//	    -> {"type":"ok","for":"available","value":…}
//	{"type":"accept","offerId":"WR…","sdp":"<offer>"}
//	    The page creates the RTCPeerConnection (one audio track, ICE
//	    gathering complete, no trickle) and sends its offer; the gateway
//	    answers -> {"type":"answer","offerId","sdp":"<answer>"}; once ICE
//	    and DTLS are up it hands the leg to the queue
//	    -> {"type":"accepted","offerId","callSid"}. If the caller is gone
//	    by then (or negotiation fails) -> {"type":"error","for":"accept",
//	    "offerId","message"} and the gateway closes its side.
//	{"type":"reject","offerId":"WR…"}
//	{"type":"hangup"}       the agent's leg is closed; the bridge ends and
//	                        the caller's call continues after its queue
//	{"type":"dtmf","digit":"5"}   a keypad press, delivered as a digit of
//	                        the agent's leg (0-9 * # A-D)
//
// Gateway to page:
//
//	{"type":"queues","queues":[{"name","size","averageWait"}]}
//	    the queues the agent serves, on sign-in and when they change
//	{"type":"offer","offer":{"id","callSid","from","to","queue",
//	    "waitedSeconds","attributes":{…},"expiresIn"}}
//	{"type":"withdrawn","offerId"}   the caller hung up or went elsewhere
//	{"type":"expired","offerId"}     the offer rang out; the agent is now
//	                                 unavailable (as after "available":false)
//	{"type":"ended","reason"}        the call is over (either side hung up)
//	{"type":"signedout","reason"}    the session ended (signed in elsewhere,
//	                                 gateway shutting down); the socket closes
//	{"type":"error","for":"<request type>","message"}
//
// With a TaskRouter desk (Options.Desk), the page also gets the agent's
// worker and reservations on every channel, and may act on them:
//
//	{"type":"desk","workerSid","activity","available","activities":[…],
//	    "tasks":[{"reservationSid","reservationStatus","taskSid","channel",
//	    "assignmentStatus","queue","age","priority","attributes":{…},
//	    "conversation":{"sid","name","messages":[{"index","author","body","date"}],"closed"}}]}
//	    at sign-in and whenever it changes
//	{"type":"task","action":"accept|reject|wrap|complete","reservationSid":"WR…"}
//	{"type":"task","action":"say","reservationSid":"WR…","body":"…"}   a chat reply
//	{"type":"task","action":"activity","activity":"Available"}
//	    failures -> {"type":"error","for":"task","message"}
//
// A voice task's call is a conference room (package ivr's agent rooms;
// plain queue calls taken here too, named after the caller's CallSid).
// The desk message lists "calls" (those the agent is on) and, for a
// supervisor ("supervisor":true), "liveCalls" (every live call), each
// {"taskSid","conferenceSid","callSid","from","to","started",
// "transferring","parties":[{"label","role","callSid","to","taskSid",
// "muted","hold","coaching","coachLabel"}]}; call actions name the call
// by its taskSid:
//
//	{"type":"task","action":"hold|unhold|mute|unmute|leave","taskSid":"WT…"}
//	{"type":"task","action":"transfer|consult","taskSid":"WT…","target":"agent:bob|queue:sales|+1555…|sip:…"}
//	{"type":"task","action":"kick","taskSid":"WT…","target":"<party label>"}
//	{"type":"task","action":"monitor|coach|barge|unmonitor","taskSid":"WT…"}   supervisors
//
// A supervisor's desk rings its own page into the call (the offer's
// X-Voxgate-Task names it, and the page answers it by itself).
//
// The presence switch also sets the worker's activity (Available or
// Offline), and closing the page sets it Offline.
//
// The call card's Mute is local to the page (it disables its microphone
// track); the desk's "mute" mutes the agent in the room. Closing
// the socket signs the agent out: an offer ringing it goes to another
// agent and a call in progress is hung up.
//
// Agents are the fixed accounts of Options.Agents; secrets are compared in
// constant time, and a connection is closed after five failed sign-ins.
package web
