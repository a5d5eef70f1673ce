package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// TestEveryActionEveryView presses every action key in every view of the
// console: a read-only console refuses each one in its gate, saying so; a
// normal one hands each to its gate, which checks it and asks for a
// confirmation (or refuses it, saying why), and runs nothing yet.
func TestEveryActionEveryView(t *testing.T) {
	views := []struct {
		name  string
		drill bool
		setup func(*gateLab)
	}{
		{name: "first node's panel"},
		{name: "second node's panel", setup: func(g *gateLab) { g.apply(press("tab")) }},
		{name: "a panel's details", setup: func(g *gateLab) { g.apply(press("enter")) }},
		{name: "timeline", setup: func(g *gateLab) { g.apply(press("tab")); g.apply(press("tab")) }},
		{name: "full help", setup: func(g *gateLab) { g.apply(press("?")) }},
		{name: "list of pairs", setup: func(g *gateLab) { g.apply(press("p")) }},
		{name: "a verdict on screen", setup: func(g *gateLab) {
			g.apply(ActionMsg{Action: Action{Kind: ActionRepair}}) // refused: nothing to repair
		}},
		{name: "drill", drill: true},
	}
	keys := DefaultKeyMap()
	for _, readOnly := range []bool{true, false} {
		mode := "normal"
		if readOnly {
			mode = "read-only"
		}
		for _, v := range views {
			for _, b := range keys.ActionBindings() {
				k := b.Keys()[0]
				t.Run(mode+"/"+v.name+"/"+k, func(t *testing.T) {
					g := newGateLabOpts(t, func(o *Options) {
						o.ReadOnly = readOnly
						if v.drill {
							o.Drill = &Drill{Title: "test", Steps: []DrillStep{{Kind: ActionBaseline, Title: "baseline"}}}
						}
					})
					g.steady()
					if v.setup != nil {
						v.setup(g)
					}
					seen := g.m.gate.seen
					cmd := g.apply(tea.KeyPressMsg{Code: []rune(k)[0], Text: k})
					var asked *ActionMsg
					for _, msg := range cmdMsgs(cmd, 20*time.Millisecond) {
						if a, ok := msg.(ActionMsg); ok {
							asked = &a
						}
					}
					if asked == nil {
						t.Fatalf("%s asked nothing of the gate", k)
					}
					g.apply(*asked)
					if g.m.gate.seen != seen+1 {
						t.Fatalf("the gate saw %d requests, want %d", g.m.gate.seen, seen+1)
					}
					if len(g.gate.runs) > 0 {
						t.Fatalf("%s ran %v without a confirmation", k, g.gate.runs)
					}
					o := g.m.gate.shown
					if readOnly {
						if g.m.gate.confirm != nil || o == nil || o.Result != ResultRefused || o.Why != ErrReadOnly.Error() {
							t.Fatalf("read-only: confirmation %v, outcome %+v; want refused as read-only", g.m.gate.confirm != nil, o)
						}
						contains(t, g.screen(), "read-only")
						return
					}
					switch {
					case g.m.gate.confirm != nil:
						if g.m.gate.confirm.a.Kind != asked.Action.Kind {
							t.Errorf("confirming %s, asked %s", g.m.gate.confirm.a.Kind, asked.Action.Kind)
						}
					case o == nil || o.Result != ResultRefused || o.Why == "" || o.Why == ErrReadOnly.Error():
						t.Errorf("neither a confirmation nor a refusal with a reason: %+v", o)
					}
				})
			}
		}
	}
}

// TestOnlyTheGateRuns checks the structure the test above relies on: the
// Gate's Run is called in gate.go, by start, and nowhere else.
func TestOnlyTheGateRuns(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var calls []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			fn, ok := n.(*ast.FuncDecl)
			if !ok {
				return true
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Run" {
					return true
				}
				switch x := sel.X.(type) {
				case *ast.SelectorExpr:
					if x.Sel.Name == "exec" || x.Sel.Name == "Executor" {
						calls = append(calls, f+":"+fn.Name.Name)
					}
				case *ast.Ident:
					if x.Name == "exec" {
						calls = append(calls, f+":"+fn.Name.Name)
					}
				}
				return true
			})
			return false
		})
	}
	if strings.Join(calls, " ") != "gate.go:start" {
		t.Errorf("the Gate's Run is called from %q, want only gate.go:start", calls)
	}
}
