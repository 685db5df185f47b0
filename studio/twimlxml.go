package studio

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
)

// element is a TwiML element to render.
type element struct {
	name     string
	attrs    [][2]string
	text     string
	rawText  bool // text is well-formed XML content (SSML), written as is
	children []*element
}

func elem(name string) *element { return &element{name: name} }

// attr adds an attribute; an empty value is left out.
func (e *element) attr(name, value string) *element {
	if value != "" {
		e.attrs = append(e.attrs, [2]string{name, value})
	}
	return e
}

// attrAlways adds an attribute even when value is empty.
func (e *element) attrAlways(name, value string) *element {
	e.attrs = append(e.attrs, [2]string{name, value})
	return e
}

func (e *element) body(text string) *element { e.text = text; return e }

func (e *element) add(children ...*element) *element {
	e.children = append(e.children, children...)
	return e
}

// twimlDocument renders a <Response> holding verbs.
func twimlDocument(verbs ...*element) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response>")
	for _, v := range verbs {
		v.write(&b)
	}
	b.WriteString("</Response>\n")
	return b.Bytes()
}

func (e *element) write(b *bytes.Buffer) {
	b.WriteByte('<')
	b.WriteString(e.name)
	for _, a := range e.attrs {
		b.WriteByte(' ')
		b.WriteString(a[0])
		b.WriteString(`="`)
		_ = xml.EscapeText(b, []byte(a[1]))
		b.WriteByte('"')
	}
	if e.text == "" && len(e.children) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	if e.rawText {
		b.WriteString(e.text)
	} else {
		_ = xml.EscapeText(b, []byte(e.text))
	}
	for _, c := range e.children {
		c.write(b)
	}
	b.WriteString("</")
	b.WriteString(e.name)
	b.WriteByte('>')
}

// sayElement is <Say> for Studio text, which may hold SSML: well-formed
// markup is kept (without a <speak> wrapper); anything else is escaped.
func sayElement(text, voice, language string, loop int) *element {
	e := elem("Say").attr("voice", voice).attr("language", language)
	if loop != 1 {
		e.attrAlways("loop", itoa(loop))
	}
	text = strings.TrimSpace(text)
	if strings.Contains(text, "<") {
		inner := strings.TrimSpace(text)
		if strings.HasPrefix(inner, "<speak>") && strings.HasSuffix(inner, "</speak>") {
			inner = strings.TrimSuffix(strings.TrimPrefix(inner, "<speak>"), "</speak>")
		}
		if wellFormed(inner) {
			e.text, e.rawText = inner, true
			return e
		}
	}
	e.text = text
	return e
}

// wellFormed reports whether s is well-formed XML element content.
func wellFormed(s string) bool {
	d := xml.NewDecoder(strings.NewReader("<x>" + s + "</x>"))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}
