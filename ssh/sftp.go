package ssh

import (
	"fmt"

	"github.com/pkg/sftp"
)

// SFTP opens an SFTP session over the connection, as the login user (never
// through sudo: a file meant for a privileged place is put somewhere the
// login user may write, and a command run with sudo moves it). The server
// needs an sftp subsystem (OpenSSH: Subsystem sftp .../sftp-server).
func (c *Client) SFTP(opts ...sftp.ClientOption) (*sftp.Client, error) {
	s, err := sftp.NewClient(c.client, opts...)
	if err != nil {
		return nil, fmt.Errorf("failed to start sftp on %s: %w", c.target.alias, err)
	}
	return s, nil
}
