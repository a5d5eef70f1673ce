package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// docExamples returns the JSON examples of doc.go: its preformatted comment
// blocks that start with "{", each holding one or more documents.
func docExamples(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 && strings.HasPrefix(cur[0], "{") {
			blocks = append(blocks, strings.Join(cur, "\n"))
		}
		cur = nil
	}
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "//\t"); ok {
			cur = append(cur, rest)
			continue
		}
		flush()
	}
	flush()
	if len(blocks) < 3 {
		t.Fatalf("found %d example blocks in doc.go; want the session, status and events", len(blocks))
	}
	return blocks
}

// The examples in doc.go are documents as vipd writes them: each decodes
// strictly (no unknown field), and each one-line example is byte for byte
// what the encoder produces. Together they use every field.
func TestDocExamples(t *testing.T) {
	seen := map[string]bool{}
	for _, block := range docExamples(t) {
		dec := json.NewDecoder(strings.NewReader(block))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("doc.go example is not JSON: %v\n%s", err, block)
			}
			collectKeys(t, raw, seen)
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(raw, &keys); err != nil {
				t.Fatal(err)
			}
			var doc any
			switch {
			case keys["cmd"] != nil:
				doc = &Request{}
			case keys["type"] != nil:
				doc = &Event{}
			case keys["ok"] != nil:
				doc = &Response{}
			default:
				doc = &Status{}
			}
			strict := json.NewDecoder(bytes.NewReader(raw))
			strict.DisallowUnknownFields()
			if err := strict.Decode(doc); err != nil {
				t.Fatalf("doc.go example does not decode as %T: %v\n%s", doc, err, raw)
			}
			enc, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			json.Compact(&compact, raw)
			if !bytes.Equal(enc, compact.Bytes()) && !bytes.Contains(raw, []byte(`"contract":2`)) {
				t.Errorf("doc.go example differs from its encoding:\ndoc %s\nenc %s", compact.Bytes(), enc)
			}
			// And the decoders take it.
			switch doc.(type) {
			case *Status:
				if _, err := DecodeStatus(bytes.NewReader(raw)); err != nil {
					t.Errorf("DecodeStatus(doc.go example): %v", err)
				}
			case *Event:
				if _, err := parseEvent(raw); err != nil {
					t.Errorf("parseEvent(doc.go example): %v", err)
				}
			case *Request:
				if _, err := parseRequest(raw); err != nil && !bytes.Contains(raw, []byte(`"contract":2`)) {
					t.Errorf("parseRequest(doc.go example): %v", err)
				}
			case *Response:
				var re *RemoteError
				if err := checkHeaderOK(raw); err != nil && !errors.As(err, &re) {
					t.Errorf("doc.go response example: %v", err)
				}
			}
		}
	}
	for _, name := range jsonNames(reflect.TypeFor[Status](), reflect.TypeFor[Event](),
		reflect.TypeFor[Request](), reflect.TypeFor[Response]()) {
		if !seen[name] {
			t.Errorf("no doc.go example shows field %q", name)
		}
	}
}

func checkHeaderOK(raw []byte) error { _, err := checkHeader(raw); return err }

// Every field is in doc.go's tables too.
func TestDocFields(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range jsonNames(reflect.TypeFor[Status](), reflect.TypeFor[Event](),
		reflect.TypeFor[Request](), reflect.TypeFor[Response]()) {
		if !bytes.Contains(src, []byte("//\t"+name+" ")) && !bytes.Contains(src, []byte(" "+name+" ")) {
			t.Errorf("doc.go does not document field %q", name)
		}
	}
}

// collectKeys adds every object key in raw, at any depth, to seen.
func collectKeys(t *testing.T, raw json.RawMessage, seen map[string]bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for k, v := range obj {
			seen[k] = true
			collectKeys(t, v, seen)
		}
		return
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		for _, v := range arr {
			collectKeys(t, v, seen)
		}
	}
}

// jsonNames returns the JSON names of the fields of types, and of the
// struct types they hold, recursively.
func jsonNames(types ...reflect.Type) []string {
	var names []string
	done := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || done[t] || t.PkgPath() != reflect.TypeFor[Status]().PkgPath() {
			return
		}
		done[t] = true
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
			walk(f.Type)
		}
	}
	for _, t := range types {
		walk(t)
	}
	return names
}
