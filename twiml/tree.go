package twiml

import "strings"

// node is one XML element (name != "") or one run of character data
// (name == "") of the parsed document, before verbs are typed.
type node struct {
	name  string   // qualified element name as written ("Say", "say-as", "amazon:effect")
	text  string   // character data, for text nodes
	line  int      // 1-based line of the start tag
	attrs []attr   // in document order
	used  []bool   // parallel to attrs: read by a converter
	hints []string // parallel to attrs: the known name an unread attribute differs from only in case
	kids  []*node  // elements and text runs in document order
}

type attr struct {
	name  string // qualified name as written ("voice", "xml:lang")
	value string
}

func (n *node) isText() bool { return n.name == "" }

// get returns the value of the named attribute and marks it as understood.
func (n *node) get(name string) (string, bool) {
	for i := range n.attrs {
		if n.attrs[i].name == name {
			if n.used == nil {
				n.used = make([]bool, len(n.attrs))
			}
			n.used[i] = true
			return n.attrs[i].value, true
		}
	}
	for i := range n.attrs {
		if strings.EqualFold(n.attrs[i].name, name) {
			if n.hints == nil {
				n.hints = make([]string, len(n.attrs))
			}
			n.hints[i] = name
		}
	}
	return "", false
}

// textContent returns the node's direct character data, trimmed.
func (n *node) textContent() string {
	var only string
	count := 0
	for _, k := range n.kids {
		if k.isText() {
			only = k.text
			count++
		}
	}
	if count <= 1 {
		return strings.TrimSpace(only)
	}
	var b strings.Builder
	for _, k := range n.kids {
		if k.isText() {
			b.WriteString(k.text)
		}
	}
	return strings.TrimSpace(b.String())
}

// hasElements reports whether the node has element children.
func (n *node) hasElements() bool {
	for _, k := range n.kids {
		if !k.isText() {
			return true
		}
	}
	return false
}

// isNamespaceDecl reports whether an attribute declares an XML namespace;
// those are accepted anywhere without a warning.
func isNamespaceDecl(name string) bool {
	return name == "xmlns" || strings.HasPrefix(name, "xmlns:")
}
