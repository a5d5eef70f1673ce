package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultIdentities are tried, in this order, when nothing names a key.
var defaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// credentials are the keys offered to one hop, and what was left out.
type credentials struct {
	signers []gossh.Signer
	offered []string // "agent key SHA256:…", "/root/.ssh/id_ed25519"
	notes   []string // why a key was skipped
	agent   net.Conn // closed once the hop is logged in
}

// loadCredentials collects keys for hop: its explicit identity files first
// (so MaxAuthTries is not spent on agent keys when the user named one), then
// the agent's keys, then the default identity files.
func loadCredentials(s *settings, hop endpoint) *credentials {
	c := &credentials{}
	seen := map[string]bool{}
	add := func(sg gossh.Signer, what string) {
		k := string(sg.PublicKey().Marshal())
		if seen[k] {
			return
		}
		seen[k] = true
		c.signers = append(c.signers, sg)
		c.offered = append(c.offered, what)
	}

	var agentSigners []gossh.Signer
	agentKeys := map[string]bool{}
	if s.AgentSocket != "none" {
		conn, err := net.DialTimeout("unix", s.AgentSocket, 5*time.Second)
		if err != nil {
			c.note("ssh-agent at %s is unreachable: %v", s.AgentSocket, err)
		} else {
			c.agent = conn
			if agentSigners, err = agent.NewClient(conn).Signers(); err != nil {
				c.note("failed to list ssh-agent keys: %v", err)
			}
			for _, sg := range agentSigners {
				agentKeys[string(sg.PublicKey().Marshal())] = true
			}
		}
	}
	c.addFiles(s, hop.identities, true, agentKeys, add)
	for _, sg := range agentSigners {
		add(sg, "agent key "+gossh.FingerprintSHA256(sg.PublicKey()))
	}
	c.addFiles(s, defaultFiles(s, hop), false, agentKeys, add)
	return c
}

// defaultFiles are the OpenSSH defaults, used only when no key is named.
func defaultFiles(s *settings, hop endpoint) []string {
	if len(hop.identities) > 0 {
		return nil
	}
	var files []string
	for _, f := range defaultIdentities {
		files = append(files, filepath.Join(s.Home, ".ssh", f))
	}
	return files
}

func (c *credentials) addFiles(s *settings, files []string, explicit bool, agentKeys map[string]bool, add func(gossh.Signer, string)) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) && !explicit {
			continue
		}
		if err != nil {
			c.note("skipped identity %s: %v", f, err)
			continue
		}
		sg, err := gossh.ParsePrivateKey(b)
		var missing *gossh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			pub := missing.PublicKey
			if pub == nil {
				pub = readPublicKey(f + ".pub")
			}
			if pub != nil && agentKeys[string(pub.Marshal())] {
				continue // the agent holds it unlocked
			}
			c.note("skipped identity %s: it needs a passphrase, which is not supported; add it to ssh-agent with ssh-add", f)
			s.Logger.Warn("skipped passphrase-protected identity; add it to ssh-agent", "file", f)
		case err != nil:
			c.note("skipped identity %s: %v", f, err)
		default:
			add(sg, f)
		}
	}
}

func readPublicKey(file string) gossh.PublicKey {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := gossh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return pub
}

func (c *credentials) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

func (c *credentials) methods() []gossh.AuthMethod {
	// One publickey method holding every key: x/crypto tries each method
	// once, and each signer in it in turn.
	return []gossh.AuthMethod{gossh.PublicKeysCallback(func() ([]gossh.Signer, error) {
		return c.signers, nil
	})}
}

// explain says what was offered, for an authentication failure.
func (c *credentials) explain() string {
	var b strings.Builder
	if len(c.offered) == 0 {
		b.WriteString("no key to offer")
	} else {
		b.WriteString("offered " + strings.Join(c.offered, ", "))
	}
	if len(c.notes) > 0 {
		b.WriteString("; " + strings.Join(c.notes, "; "))
	}
	return b.String()
}

func (c *credentials) close() {
	if c.agent != nil {
		c.agent.Close()
	}
}
