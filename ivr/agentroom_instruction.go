package ivr

import (
	"fmt"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/taskrouter"
)

// roomJoinOptions are the join options of an agent room's caller (who
// makes the room, so the room's own settings go with it) and of its first
// agent: the desktop's defaults (no beeps, no callbacks, the caller's
// leaving ends the room), overlaid with the settings of a conference
// instruction (Flex's reservation update) when it gave any.
func roomJoinOptions(s *session, o *taskrouter.ConferenceOptions) (caller, agent conference.JoinOptions, err error) {
	caller = conference.JoinOptions{Label: CustomerLabel, Beep: "false", StartConferenceOnEnter: true, EndConferenceOnExit: true}
	if o == nil {
		return caller, agent, nil
	}
	if o.StatusCallback != "" {
		if caller.Callback.URL, err = s.resolve(o.StatusCallback); err != nil {
			return caller, agent, fmt.Errorf("ConferenceStatusCallback: %w", err)
		}
		caller.Callback.Method, caller.Callback.Events = o.StatusCallbackMethod, o.StatusCallbackEvents
	}
	caller.Record = o.Record
	if o.RecordingStatusCallback != "" {
		if caller.RecordingCallback.URL, err = s.resolve(o.RecordingStatusCallback); err != nil {
			return caller, agent, fmt.Errorf("ConferenceRecordingStatusCallback: %w", err)
		}
		caller.RecordingCallback.Method = o.RecordingStatusCallbackMethod
	}
	caller.MaxParticipants = o.MaxParticipants
	if o.BeepOnCustomerEntrance {
		caller.Beep = "onEnter"
	}
	agent = conference.JoinOptions{Beep: o.Beep, EndConferenceOnExit: o.EndConferenceOnExit, Muted: o.Muted}
	return caller, agent, nil
}
