package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"sync"
	"time"
)

// errClientDone is returned by a Client that was closed, broken by a
// cancelled request, or handed to Watch.
var errClientDone = errors.New("control client closed")

// Client talks to vipd over one connection: requests one at a time, and at
// most one Watch, which takes the connection over. Cancelling a request's
// context closes the connection (its state is unknown after that), so the
// Client is done; dial again. vipd closes a connection idle for a minute:
// dial for each use rather than keeping a Client around.
type Client struct {
	// By says who is asking; vipd logs it with fault and resume and puts it
	// in the action event ("alice via vipctl from 198.51.100.7").
	By string
	// StatusEvery, when positive, asks Watch for a status event this
	// often (at least MinStatusEvery) and right after each transition.
	StatusEvery time.Duration

	mu   sync.Mutex
	conn io.ReadWriteCloser
	br   *bufio.Reader
	done bool
}

// Dial connects to vipd's control socket at path.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to vipd at %s: %w", path, err)
	}
	return NewClient(c), nil
}

// NewClient returns a Client speaking over rw: a control socket, or a
// channel to something that relays one.
func NewClient(rw io.ReadWriteCloser) *Client {
	return &Client{conn: rw, br: bufio.NewReaderSize(rw, 64<<10)}
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	return c.conn.Close()
}

// Status asks vipd for a Status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	line, err := c.roundTrip(ctx, Request{Cmd: CmdStatus})
	if err != nil {
		return Status{}, fmt.Errorf("failed to get vipd status: %w", err)
	}
	s, err := parseStatus(line)
	if err != nil {
		return Status{}, fmt.Errorf("failed to get vipd status: %w", err)
	}
	return s, nil
}

// Fault asks vipd to put instance ("" = every instance) in FAULT.
func (c *Client) Fault(ctx context.Context, instance, reason string) error {
	err := c.act(ctx, Request{Cmd: CmdFault, Instance: instance, Reason: reason, By: c.By})
	if err != nil {
		return fmt.Errorf("failed to fault %s: %w", instanceName(instance), err)
	}
	return nil
}

// Resume asks vipd to bring instance ("" = every instance) back from FAULT.
func (c *Client) Resume(ctx context.Context, instance string) error {
	err := c.act(ctx, Request{Cmd: CmdResume, Instance: instance, By: c.By})
	if err != nil {
		return fmt.Errorf("failed to resume %s: %w", instanceName(instance), err)
	}
	return nil
}

func instanceName(instance string) string {
	if instance == "" {
		return "every instance"
	}
	return fmt.Sprintf("%q", instance)
}

func (c *Client) act(ctx context.Context, req Request) error {
	line, err := c.roundTrip(ctx, req)
	if err != nil {
		return err
	}
	h, err := checkHeader(line)
	if err != nil {
		return err
	}
	if h.OK == nil {
		return errors.New(`malformed response: no "ok"`)
	}
	return nil
}

// roundTrip sends req and reads one line back.
func (c *Client) roundTrip(ctx context.Context, req Request) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return nil, errClientDone
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	line, err := c.exchange(req)
	if !stop() {
		c.done = true
		return nil, ctx.Err()
	}
	if err != nil {
		c.done = true
		c.conn.Close()
		return nil, err
	}
	return line, nil
}

func (c *Client) exchange(req Request) ([]byte, error) {
	b, err := encodeLine(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(b); err != nil {
		return nil, fmt.Errorf("failed to send request: %w", err)
	}
	line, err := readLine(c.br, MaxLineSize, false)
	if err == io.EOF {
		err = fmt.Errorf("vipd closed the connection: %w", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read response: %w", err)
	}
	return line, nil
}

// Watch asks vipd for its events: a snapshot first, then every event as it
// happens, and status events if StatusEvery says so. The sequence ends
// when ctx is done or vipd closes the stream (after an error event if it
// cut the client off: reconnect for a fresh snapshot); it yields a non-nil
// error, and ends, if the request fails or a line is not an event of this
// contract. Watch takes the connection over and closes it at the end; the
// Client is done after.
func (c *Client) Watch(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		c.mu.Lock()
		if c.done {
			c.mu.Unlock()
			yield(Event{}, errClientDone)
			return
		}
		c.done = true
		c.mu.Unlock()
		defer c.conn.Close()
		stop := context.AfterFunc(ctx, func() { c.conn.Close() })
		defer stop()

		b, err := encodeLine(Request{Cmd: CmdWatch, By: c.By, StatusEvery: Millis(max(c.StatusEvery, 0))})
		if err == nil {
			_, err = c.conn.Write(b)
		}
		if err != nil {
			if ctx.Err() == nil {
				yield(Event{}, fmt.Errorf("failed to watch vipd: %w", err))
			}
			return
		}
		dec := NewEventDecoder(c.br)
		for {
			ev, err := dec.Next()
			if ctx.Err() != nil || err == io.EOF {
				return
			}
			if err != nil {
				yield(Event{}, fmt.Errorf("failed to watch vipd: %w", err))
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}
