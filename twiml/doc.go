// Package twiml parses and validates TwiML voice documents (the XML a
// customer webhook returns) into typed verbs, following Voxgate's
// conformance notes (twiml-voice.md §1, §2, §3.9). It does no I/O.
//
// # Parsing
//
// [Parse] turns a document into a [*Response]: a list of [Verb] values, each a
// pointer to one of the verb structs ([*Say], [*Play], [*Pause], [*Gather],
// [*Record], [*Dial], [*Enqueue], [*Leave], [*Hangup], [*Redirect],
// [*Reject], [*Refer], [*Connect], [*Start], [*Stop], [*Pay], [*Echo]).
// Attributes are already converted, with Twilio's defaults applied; each
// field documents its unit and default. Durations are whole seconds unless a
// field says otherwise.
//
// Problems come in two severities, mirroring how Twilio treats them:
//
//   - Errors ([*Error]) mean the document must not run; the engine takes
//     the application-error path (fallback URL, else "an application error
//     has occurred" and hang up). Errors are: an oversized body (11750), XML
//     that is not well formed (12100, including whitespace or a BOM before
//     "<?xml"), a root other than <Response> (12102), and structural schema
//     violations: an unknown verb or noun, a verb or noun in a place the
//     nesting matrix forbids (12200, 13320 for Gather, 13215 for Dial, 14300
//     for Start/Stop), the legacy <Sms> verb, <Play digits> inside <Gather>.
//   - Warnings ([Warning]) are what Twilio only logs: unknown attributes
//     (12200) and invalid attribute values. Twilio's error dictionary lists
//     the attribute-value codes (13310, 13313, 13314, 13410, 13510, 13611,
//     13613, 13616, 13910, 13212, 13230-13235, ...) at log level WARNING, so
//     the parser reports them and uses the attribute's default, as §3.9
//     prescribes. The verb still runs.
//
// [Check] reports every problem of both kinds, in line order, for
// `voxgate twiml validate`.
//
// Line numbers are 1-based and refer to the line holding the '<' of the
// element's start tag. For a misplaced element, the problem's Verb is the
// parent whose nesting rule was broken and Line is the misplaced element's
// line.
//
// # Restricted documents
//
// Documents fetched for an Enqueue waitUrl, a Dial <Queue url>, a whisper
// url on <Number>/<Client>/<Sip>, or a Conference waitUrl may only use a
// subset of verbs. [Response.Allowed] checks a parsed document against such
// a [Context].
//
// # Text
//
// Element text is whitespace-trimmed. <Say> text additionally has SSML
// elements stripped and whitespace runs collapsed ([Say.Text]); <break>
// pauses are kept in [Say.Segments], and the content re-serialised as SSML is
// in [Say.SSML] for engines that speak SSML.
package twiml
