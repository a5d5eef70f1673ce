package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeStatus reads one Status document from r: the output of `vipd
// status --json`, compact or indented. It returns a *VersionError for
// another contract version and a *RemoteError when r holds vipd's refusal
// instead.
func DecodeStatus(r io.Reader) (Status, error) {
	var raw json.RawMessage
	dec := json.NewDecoder(io.LimitReader(r, MaxLineSize+1))
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Status{}, fmt.Errorf("failed to read status document: %w", err)
	}
	return parseStatus(raw)
}

func parseStatus(data []byte) (Status, error) {
	h, err := checkHeader(data)
	if err != nil {
		return Status{}, err
	}
	switch {
	case h.Type != "":
		return Status{}, fmt.Errorf("expected a status document, got a %.32q event", h.Type)
	case h.Cmd != nil:
		return Status{}, errors.New("expected a status document, got a request")
	case h.OK != nil:
		return Status{}, errors.New("expected a status document, got a response")
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return Status{}, fmt.Errorf("malformed status document: %w", err)
	}
	return s, nil
}

// An EventDecoder reads the JSON lines of `vipd watch --json` from any
// reader: the control socket, or an SSH session's stdout.
type EventDecoder struct {
	br   *bufio.Reader
	line int
}

// NewEventDecoder returns a decoder reading from r. It reads ahead: give it
// r alone.
func NewEventDecoder(r io.Reader) *EventDecoder {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &EventDecoder{br: br}
}

// Next returns the next event, or io.EOF at the end of the stream. A line
// that is not an event of this contract version is an error naming the
// line (wrapping *VersionError, *RemoteError or ErrLineTooLong); the
// decoder stays usable, so the caller decides whether to go on. Blank lines
// are skipped. An error event is an Event, not an error.
func (d *EventDecoder) Next() (Event, error) {
	for {
		line, err := readLine(d.br, MaxLineSize, true)
		if err == io.EOF {
			return Event{}, io.EOF
		}
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			return Event{}, fmt.Errorf("failed to read event: %w", err)
		}
		d.line++
		if err != nil {
			return Event{}, fmt.Errorf("event line %d: %w", d.line, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := parseEvent(line)
		if err != nil {
			return Event{}, fmt.Errorf("event line %d: %w", d.line, err)
		}
		return ev, nil
	}
}

func parseEvent(line []byte) (Event, error) {
	h, err := checkHeader(line)
	if err != nil {
		return Event{}, err
	}
	if h.Type == "" {
		return Event{}, errors.New(`malformed event: no "type"`)
	}
	var ev Event
	if err := json.Unmarshal(line, &ev); err != nil {
		return Event{}, fmt.Errorf("malformed %.32q event: %w", h.Type, err)
	}
	// The Status inside a snapshot or status event is a document of its
	// own: it must say its version too.
	var st *Status
	switch ev.Type {
	case EventSnapshot:
		st = ev.Snapshot
	case EventStatus:
		st = ev.Status
	default:
		return ev, nil
	}
	if st == nil {
		return Event{}, fmt.Errorf("malformed %s event: no %s", ev.Type, ev.Type)
	}
	if st.Contract != ContractVersion {
		return Event{}, &VersionError{Got: st.Contract, Want: ContractVersion}
	}
	return ev, nil
}

// readLine reads one line without its "\n" or "\r\n". A final line without
// a newline counts; io.EOF means nothing was left. A line longer than max is
// ErrLineTooLong: with resync its rest is consumed so that the next call
// starts on the next line; without, the reader is left in the middle of it
// (the server hangs up instead of reading a flood).
func readLine(br *bufio.Reader, max int, resync bool) ([]byte, error) {
	var line []byte
	over := false
	for {
		frag, err := br.ReadSlice('\n')
		if !over {
			line = append(line, frag...)
			if len(line) > max+2 {
				over, line = true, nil
				if !resync {
					return nil, ErrLineTooLong
				}
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if !over && len(line) == 0 {
				return nil, io.EOF
			}
		case err != nil:
			return nil, err
		}
		if over {
			return nil, ErrLineTooLong
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > max {
			return nil, ErrLineTooLong
		}
		return line, nil
	}
}
