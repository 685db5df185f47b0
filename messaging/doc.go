// Package messaging is Voxgate's SMS engine: Twilio's Programmable
// Messaging model over carrier transports.
//
// A [Service] owns the message lifecycle. Outbound messages (the REST
// API's Messages create, <Message> in a webhook's reply, Studio's
// send-message widgets) are validated, stored as "queued" and only then
// handed to a [Transport] by the outbox workers, which move them through
// sending → sent → delivered/undelivered/failed as the transport answers
// and delivery receipts arrive, retrying transient failures (a dropped
// SMSC connection, a timeout) and posting status callbacks with Twilio's
// parameters. Inbound messages are stored as "received" (and pending)
// before the transport acknowledges them; the Service then handles
// opt-out keywords, requests the number's sms_url with Twilio's
// parameters and X-Twilio-Signature and runs the <Message>/<Redirect>
// TwiML it returns, or hands the message to a Studio flow ([FlowRunner]).
// At start, [Service.Run] reconciles: queued or sending messages are sent
// again (a message whose SMSC answer was lost may go twice, never zero
// times) and pending inbound messages are handled.
//
// Transports: [SMPPTransport] (an SMPP 3.4 client to a carrier's SMSC,
// with GSM-7/UCS-2 encoding, UDH concatenation both ways and delivery
// receipts) and [SIPTransport] (RFC 3428 MESSAGE over a SIP trunk).
package messaging
