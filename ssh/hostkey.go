package ssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/skeema/knownhosts"
	gossh "golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// ErrHostKeyUnknown is wrapped by the error for a host key that known_hosts
// does not hold and that Confirm did not accept.
var ErrHostKeyUnknown = errors.New("host key not trusted")

// HostKeyPrompt is what Config.Confirm is asked about.
type HostKeyPrompt struct {
	// Host is the name as typed or configured (an alias, or host:port).
	Host string
	// Address is how known_hosts will record the host: "host" or "[host]:port".
	Address string
	Remote  net.Addr
	Key     gossh.PublicKey
	// Fingerprint is "SHA256:…", as ssh-keygen -l prints it.
	Fingerprint string
	// KnownTypes lists key types known_hosts holds for the host, such as
	// "ssh-ed25519", when the server sent a key of another type. OpenSSH
	// asks in that case too, but it deserves a warning.
	KnownTypes []string
	// File is the known_hosts file the key will be appended to.
	File string
}

// KnownKey is a known_hosts entry.
type KnownKey struct {
	File        string
	Line        int
	Type        string
	Fingerprint string
}

// HostKeyChangedError is returned when the server presents a key other than
// the one known_hosts holds for it: either the host was reinstalled or
// someone is in the middle. The connection is refused.
type HostKeyChangedError struct {
	Host        string // as typed or configured
	Address     string // as known_hosts records it
	Type        string // key type sent, e.g. "ssh-ed25519"
	Fingerprint string // of the key sent
	// Offending are the entries of the same type that did not match.
	Offending []KnownKey
}

func (e *HostKeyChangedError) Error() string {
	var where []string
	for _, k := range e.Offending {
		where = append(where, fmt.Sprintf("%s:%d", k.File, k.Line))
	}
	return fmt.Sprintf("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s! "+
		"The %s key sent by the remote host has fingerprint %s; offending key in %s. "+
		"Someone could be eavesdropping on you right now (man-in-the-middle attack), "+
		"or the host key has just been changed. Host key verification failed; "+
		"if the change is expected, run: %s",
		e.Host, e.Type, e.Fingerprint, strings.Join(where, ", "), e.Remedy())
}

// Remedy is the command that removes the offending entries, after which
// connecting again asks to confirm the new key.
func (e *HostKeyChangedError) Remedy() string {
	file := "~/.ssh/known_hosts"
	if len(e.Offending) > 0 {
		file = e.Offending[0].File
	}
	return fmt.Sprintf("ssh-keygen -f %q -R %q", file, e.Address)
}

// hostKeys checks host keys against known_hosts for one Dial.
type hostKeys struct {
	file    string
	db      *knownhosts.HostKeyDB // nil while the file does not exist
	confirm func(context.Context, HostKeyPrompt) bool
	log     *slog.Logger
}

func loadHostKeys(file string, confirm func(context.Context, HostKeyPrompt) bool, log *slog.Logger) (*hostKeys, error) {
	h := &hostKeys{file: file, confirm: confirm, log: log}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	db, err := knownhosts.NewDB(file)
	if err != nil {
		return nil, fmt.Errorf("failed to read known hosts: %w", err)
	}
	h.db = db
	return h, nil
}

// algorithms puts the host-key algorithms known_hosts holds for addr first,
// then the rest this client supports, so the server presents a key we know
// if it has one (x/crypto would otherwise prefer ECDSA and report a
// mismatch for a host known by ed25519), and can still present another.
func (h *hostKeys) algorithms(addr string) []string {
	var known []string
	if h.db != nil {
		known = h.db.HostKeyAlgorithms(addr)
	}
	algos := slices.Clone(known)
	for _, a := range slices.Concat(preferredHostKeyAlgos, gossh.SupportedAlgorithms().HostKeys) {
		// Certificates need a @cert-authority line, which is in known.
		if !strings.Contains(a, "-cert-") && !slices.Contains(algos, a) {
			algos = append(algos, a)
		}
	}
	return algos
}

// preferredHostKeyAlgos is OpenSSH's order, so that a new host is recorded
// by the key type the operator's own ssh(1) would have recorded.
var preferredHostKeyAlgos = []string{
	gossh.KeyAlgoED25519,
	gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384, gossh.KeyAlgoECDSA521,
	gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256,
}

// callback checks the key of one hop. pause stops the dial timeout while a
// person reads the fingerprint; it returns the function that restarts it.
func (h *hostKeys) callback(ctx context.Context, hop endpoint, pause func() func()) gossh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key gossh.PublicKey) error {
		var err error = &xknownhosts.KeyError{}
		if h.db != nil {
			err = h.db.HostKeyCallback()(hostname, remote, key)
		}
		if err == nil {
			return nil
		}
		address := knownhosts.Normalize(hostname)
		fp := gossh.FingerprintSHA256(key)
		var revoked *xknownhosts.RevokedError
		var keyErr *xknownhosts.KeyError
		switch {
		case errors.As(err, &revoked):
			return fmt.Errorf("host key %s of %s is marked @revoked in %s:%d", fp, hop.alias, revoked.Revoked.Filename, revoked.Revoked.Line)
		case !errors.As(err, &keyErr):
			return fmt.Errorf("failed to check host key of %s: %w", hop.alias, err)
		}

		var sameType []KnownKey
		var otherTypes []string
		for _, w := range keyErr.Want {
			if w.Key.Type() != key.Type() {
				if !slices.Contains(otherTypes, w.Key.Type()) {
					otherTypes = append(otherTypes, w.Key.Type())
				}
				continue
			}
			sameType = append(sameType, KnownKey{
				File: w.Filename, Line: w.Line, Type: w.Key.Type(),
				Fingerprint: gossh.FingerprintSHA256(w.Key),
			})
		}
		if len(sameType) > 0 {
			return &HostKeyChangedError{Host: hop.alias, Address: address, Type: key.Type(), Fingerprint: fp, Offending: sameType}
		}

		if h.confirm == nil {
			also := ""
			if len(otherTypes) > 0 {
				also = " (it holds only " + strings.Join(otherTypes, ", ") + " keys for it)"
			}
			return fmt.Errorf("%w: %s key %s of %s is not in %s%s", ErrHostKeyUnknown, key.Type(), fp, hop.alias, h.file, also)
		}
		resume := pause()
		ok := h.confirm(ctx, HostKeyPrompt{
			Host: hop.alias, Address: address, Remote: remote, Key: key,
			Fingerprint: fp, KnownTypes: otherTypes, File: h.file,
		})
		resume()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gave up asking about the host key of %s: %w", hop.alias, err)
		}
		if !ok {
			return fmt.Errorf("%w: %s key %s of %s was not accepted", ErrHostKeyUnknown, key.Type(), fp, hop.alias)
		}
		added, err := appendKnownHost(h.file, hostname, remote, key)
		switch {
		case err != nil:
			// Accepted for this connection all the same, as ssh(1) does.
			h.log.Warn("host key accepted but not saved", "host", hop.alias, "err", err)
		case added:
			h.log.Info("host key added to known hosts", "host", hop.alias, "address", address, "fingerprint", fp, "file", h.file)
		}
		return nil
	}
}

// ConfirmOnce wraps confirm so that each key of each address (host:port,
// as known_hosts records it) is asked about once at a time: a question
// about a key already being asked about waits for that answer and takes
// it, as do later questions after a yes (dials that read known_hosts
// before the key was added). A no is not remembered: asking again is how
// an operator changes their mind. Two pairs on the same hosts thus ask
// about each host once.
func ConfirmOnce(confirm func(context.Context, HostKeyPrompt) bool) func(context.Context, HostKeyPrompt) bool {
	if confirm == nil {
		return nil
	}
	type question struct {
		done chan struct{}
		yes  bool
	}
	var (
		mu    sync.Mutex
		asked = map[string]*question{} // pending, or answered yes
	)
	return func(ctx context.Context, p HostKeyPrompt) bool {
		id := p.Address + " " + p.Fingerprint
		mu.Lock()
		q, ok := asked[id]
		if !ok {
			q = &question{done: make(chan struct{})}
			asked[id] = q
		}
		mu.Unlock()
		if ok {
			select {
			case <-q.done:
				return q.yes
			case <-ctx.Done():
				return false
			}
		}
		yes := confirm(ctx, p)
		mu.Lock()
		q.yes = yes
		if !yes {
			delete(asked, id)
		}
		mu.Unlock()
		close(q.done)
		return yes
	}
}

// knownHostsMu serialises appends from concurrent dials in this process.
var knownHostsMu sync.Mutex

// appendKnownHost records key for hostname in file unless the file holds
// it already (another dial added it meanwhile: a second line would be a
// duplicate); it reports whether it wrote a line. It records only the
// name dialled, not the IP as well, as OpenSSH does since CheckHostIP
// defaulted to no.
func appendKnownHost(file, hostname string, remote net.Addr, key gossh.PublicKey) (bool, error) {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	address := knownhosts.Normalize(hostname)
	if known, err := holdsKey(file, hostname, remote, key); err != nil {
		return false, fmt.Errorf("failed to add %s to known hosts: %w", address, err)
	} else if known {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return false, fmt.Errorf("failed to add %s to known hosts: %w", address, err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("failed to add %s to known hosts: %w", address, err)
	}
	// A file not ending in a newline would glue our line onto its last one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(file); err == nil {
			if _, err := r.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
				_, _ = f.WriteString("\n")
			}
			r.Close()
		}
	}
	_, err = f.WriteString(knownhosts.Line([]string{address}, key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("failed to add %s to known hosts %s: %w", address, file, err)
	}
	return true, nil
}

// holdsKey reports whether file, read afresh, accepts key for hostname.
func holdsKey(file, hostname string, remote net.Addr, key gossh.PublicKey) (bool, error) {
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	db, err := knownhosts.NewDB(file)
	if err != nil {
		return false, err
	}
	if _, ok := remote.(*net.TCPAddr); !ok {
		remote = &net.TCPAddr{IP: net.IPv4zero} // the check wants one; hostname decides
	}
	return db.HostKeyCallback()(hostname, remote, key) == nil, nil
}
