// Package cluster says which nodes vipctl watches: one or more pairs, each
// a VIP and the nodes that share it, reached over SSH. A single pair comes
// from flags; several from a cluster file.
//
//	vipctl --node nginx-01=root@lb1 --node nginx-02=root@lb2 --vip 198.51.100.100:80
//	vipctl -c cluster.conf
//
// # Cluster file
//
// One directive per line, words separated by blanks; "#" starts a comment.
// Indentation means nothing. Settings before the first pair are defaults
// for every pair; socket, vipd and sudo inside a pair set that pair's only.
//
//	# Where vipctl records host keys; default ~/.ssh/known_hosts (or
//	# UserKnownHostsFile from ~/.ssh/config). Before the first pair only.
//	known_hosts ~/.ssh/known_hosts
//	# vipd's control socket on the nodes (vipd -socket); this is the default.
//	socket /run/vipd/control.sock
//	# vipd's path on the nodes; default vipd from the login's PATH.
//	vipd /usr/local/sbin/vipd
//	# When vipd runs through "sudo -n": auto (unless logged in as root),
//	# always or never. Default auto.
//	sudo auto
//
//	pair web                               # a pair, named as the console shows it
//	    vip 198.51.100.100:80              # the VIP and the port probed (default 80)
//	    node nginx-01=root@lb1.example.net # NAME=[USER@]HOST[:PORT] or an ssh_config Host
//	    node nginx-02=deploy@lb2.example.net:2222
//	    sudo always
//
//	pair api
//	    vip 198.51.100.101:8080
//	    node nginx-03=lb3
//	    node nginx-04=lb4
//
// Every mistake is reported with its file:line, all of them at once.
package cluster
