package config

import "fmt"

// node is a keyword line, with the block that follows it if any.
type node struct {
	pos      Pos
	words    []string
	raw      string
	hasBlock bool
	block    []*node
}

func (n *node) keyword() string { return n.words[0] }
func (n *node) args() []string  { return n.words[1:] }

// maxNesting bounds the depth of blocks; keepalived nests four deep.
const maxNesting = 32

// tree groups items into nodes as the lexer produces them: a line followed
// by "{" owns everything up to the matching "}", whether the brace is on the
// same line or the next. Braces are not stored, so a file of stray braces
// costs no memory.
type tree struct {
	d     *diags
	roots []*node
	open  []*node // blocks being filled, innermost last
	last  *node   // the line just read, which a "{" would open
	skip  int     // depth inside a block being skipped
}

func (t *tree) push(it item) {
	if t.skip > 0 {
		switch it.kind {
		case itemOpen:
			t.skip++
		case itemClose:
			t.skip--
		}
		return
	}
	last := t.last
	t.last = nil
	switch it.kind {
	case itemWords:
		n := &node{pos: it.pos, words: it.words, raw: it.raw}
		if k := len(t.open); k > 0 {
			t.open[k-1].block = append(t.open[k-1].block, n)
		} else {
			t.roots = append(t.roots, n)
		}
		t.last = n
	case itemOpen:
		switch {
		case last == nil:
			t.d.errorf(it.pos, "unexpected \"{\": a block must follow a keyword")
			t.skip = 1
		case len(t.open) >= maxNesting:
			t.d.errorf(it.pos, "blocks nested deeper than %d", maxNesting)
			t.skip = 1
		default:
			last.hasBlock = true
			t.open = append(t.open, last)
		}
	case itemClose:
		if len(t.open) == 0 {
			t.d.errorf(it.pos, "unexpected \"}\": no block is open")
			return
		}
		t.open = t.open[:len(t.open)-1]
	}
}

// end reports the blocks left open at the end of the input.
func (t *tree) end() []*node {
	for i := len(t.open) - 1; i >= 0; i-- {
		n := t.open[i]
		t.d.errorf(n.pos, "%s: block %s is never closed (missing \"}\")", n.keyword(), blockTitle(n))
	}
	return t.roots
}

func blockTitle(n *node) string {
	if len(n.words) > 1 {
		return fmt.Sprintf("%q", n.words[1])
	}
	return "opened here"
}
