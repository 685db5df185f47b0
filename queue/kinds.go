package queue

// String names the event kind.
func (k AgentEventKind) String() string {
	switch k {
	case OfferMade:
		return "OfferMade"
	case OfferWithdrawn:
		return "OfferWithdrawn"
	case OfferExpired:
		return "OfferExpired"
	case CallEnded:
		return "CallEnded"
	case QueuesChanged:
		return "QueuesChanged"
	}
	return "AgentEventKind(?)"
}

// String names the outcome kind.
func (k OutcomeKind) String() string {
	switch k {
	case Bridged:
		return "Bridged"
	case Dequeued:
		return "Dequeued"
	case TimedOut:
		return "TimedOut"
	}
	return "OutcomeKind(?)"
}
