package speech

import "testing"

func TestParams(t *testing.T) {
	if got := ActionParams(Result{Text: "sales", Confidence: 0.875, HasConfidence: true}).Encode(); got != "Confidence=0.875&SpeechResult=sales" {
		t.Errorf("ActionParams = %s", got)
	}
	if got := ActionParams(Result{Text: "sales"}).Encode(); got != "SpeechResult=sales" {
		t.Errorf("ActionParams without confidence = %s", got)
	}
	if got := PartialParams(Partial{Text: "sa", Stability: 0.5}, 2).Encode(); got != "SequenceNumber=2&Stability=0.5&UnstableSpeechResult=sa" {
		t.Errorf("PartialParams = %s", got)
	}
}
