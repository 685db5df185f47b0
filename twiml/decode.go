package twiml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"encoding/xml"
)

// MaxBodySize is the largest TwiML document accepted, in bytes (64 KB);
// larger bodies fail with 11750.
const MaxBodySize = 64 * 1024

// maxDepth bounds element nesting; real TwiML is at most about six deep.
const maxDepth = 256

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decodeTree checks that data is a well-formed XML document and returns its
// root element. A failure is returned as a single Problem (11750 or 12100).
func decodeTree(data []byte) (*node, *Problem) {
	if len(data) > MaxBodySize {
		return nil, &Problem{Severity: SeverityError, Code: CodeBodyTooLarge,
			Message: fmt.Sprintf("TwiML response body too large: %d bytes (limit %d)", len(data), MaxBodySize)}
	}
	if bytes.HasPrefix(data, utf8BOM) {
		if bytes.HasPrefix(data[len(utf8BOM):], []byte("<?xml")) {
			return nil, parseFailure(1, "byte order mark before the XML declaration")
		}
		data = data[len(utf8BOM):] // a BOM alone is a legal encoding signature
	}
	data, p := toUTF8(data)
	if p != nil {
		return nil, p
	}

	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if isUTF8Label(label) || singleByteCharset(label) != nil {
			return r, nil // toUTF8 already converted the bytes
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	lines := lineIndex{data: data, line: 1}
	var root *node
	var stack []*node
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxFailure(err, lines.at(d.InputOffset()))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: qualifiedName(t.Name), line: lines.at(off)}
			if len(t.Attr) > 0 {
				n.attrs = make([]attr, 0, len(t.Attr))
			}
			for _, a := range t.Attr {
				name := qualifiedName(a.Name)
				for _, prev := range n.attrs {
					if prev.name == name {
						return nil, parseFailure(n.line, fmt.Sprintf("attribute %q repeated on <%s>", name, n.name))
					}
				}
				n.attrs = append(n.attrs, attr{name: name, value: a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, parseFailure(n.line, fmt.Sprintf("second root element <%s>", n.name))
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			if len(stack) >= maxDepth {
				return nil, parseFailure(n.line, "elements nested too deeply")
			}
			stack = append(stack, n)
		case xml.EndElement:
			name := qualifiedName(t.Name)
			if len(stack) == 0 {
				return nil, parseFailure(lines.at(off), fmt.Sprintf("unexpected end tag </%s>", name))
			}
			top := stack[len(stack)-1]
			if top.name != name {
				return nil, parseFailure(lines.at(off), fmt.Sprintf("element <%s> (line %d) closed by </%s>", top.name, top.line, name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if !isBlank(t) {
					return nil, parseFailure(lines.at(off), "text outside the root element")
				}
				continue
			}
			parent := stack[len(stack)-1]
			if k := len(parent.kids); k > 0 && parent.kids[k-1].isText() {
				parent.kids[k-1].text += string(t) // text next to CDATA
			} else {
				parent.kids = append(parent.kids, &node{text: string(t), line: lines.at(off)})
			}
		case xml.ProcInst:
			if strings.EqualFold(t.Target, "xml") && off != 0 {
				return nil, parseFailure(lines.at(off), "the XML declaration must be the very first thing in the document (whitespace or other content before <?xml)")
			}
		case xml.Directive:
			if root != nil || len(stack) > 0 {
				return nil, parseFailure(lines.at(off), "markup declaration <!"+firstWord(t)+"> not allowed here")
			}
		case xml.Comment:
			// Comments are ignored anywhere.
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, parseFailure(lines.at(int64(len(data))), fmt.Sprintf("unexpected end of document: <%s> (line %d) is not closed", top.name, top.line))
	}
	if root == nil {
		return nil, parseFailure(lines.at(int64(len(data))), "the document has no root element")
	}
	return root, nil
}

func parseFailure(line int, msg string) *Problem {
	return &Problem{Severity: SeverityError, Code: CodeParseFailure, Line: line, Message: "Document parse failure: " + msg}
}

func syntaxFailure(err error, line int) *Problem {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return parseFailure(se.Line, se.Msg)
	}
	return parseFailure(line, err.Error())
}

// qualifiedName returns the name as written in the document ("prefix:local").
// RawToken does not resolve namespace prefixes, so Space holds the prefix.
func qualifiedName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func isBlank(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if !unicode.IsSpace(r) {
			return false
		}
		b = b[size:]
	}
	return true
}

func firstWord(b []byte) string {
	s := string(b)
	if i := strings.IndexAny(s, " \t\r\n["); i >= 0 {
		s = s[:i]
	}
	if len(s) > 20 {
		s = s[:20]
	}
	return s
}

// lineIndex maps increasing byte offsets of data to 1-based line numbers.
type lineIndex struct {
	data []byte
	off  int64
	line int
}

func (l *lineIndex) at(off int64) int {
	if off > int64(len(l.data)) {
		off = int64(len(l.data))
	}
	if off < l.off {
		l.off, l.line = 0, 1
	}
	l.line += bytes.Count(l.data[l.off:off], []byte{'\n'})
	l.off = off
	return l.line
}
