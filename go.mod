module github.com/vipkit/vip

go 1.26.0

require (
	github.com/jsimonetti/rtnetlink/v2 v2.0.2
	github.com/kevinburke/ssh_config v1.6.0
	github.com/mdlayher/packet v1.2.0
	github.com/skeema/knownhosts v1.3.2
	golang.org/x/crypto v0.59.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/josharian/native v1.1.0 // indirect
	github.com/mdlayher/netlink v1.7.2 // indirect
	github.com/mdlayher/socket v0.7.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
)
