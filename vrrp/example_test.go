package vrrp_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/vipkit/vip/vrrp"
	"github.com/vipkit/vip/vrrp/vrrptest"
)

// A router alone on its segment hears no master, so after
// Master_Down_Interval it takes the virtual address; when its context ends it
// gives the address up with a priority-0 advert. On Linux, vrrp.Listen,
// vrrp.NewAddresser and vrrp.NewAnnouncer take the places of the in-memory
// host.
func Example() {
	network := vrrptest.NewNetwork(1)
	host := network.Host(netip.MustParseAddr("198.51.100.1"))
	vip := netip.MustParsePrefix("198.51.100.100/24")

	inst, err := vrrp.NewInstance(vrrp.Config{
		VRID:      60,
		Version:   vrrp.Version3,
		Interval:  10 * time.Millisecond, // Master_Down_Interval 36 ms at priority 100
		Primary:   host.Addr(),
		Addresses: []netip.Prefix{vip},
	}, host.Conn(), host.Addresser(), host.Announcer())
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- inst.Run(ctx) }()

	for ev := range inst.Events() {
		fmt.Printf("%s -> %s (%s)\n", ev.From, ev.To, ev.Reason)
		if ev.To == vrrp.StateMaster {
			fmt.Println("holds VIP:", host.Addresser().Has(vip))
			cancel()
		}
		if ev.To == vrrp.StateInit {
			break
		}
	}
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	fmt.Println("holds VIP:", host.Addresser().Has(vip))
	// Output:
	// INIT -> BACKUP (startup)
	// BACKUP -> MASTER (master down)
	// holds VIP: true
	// MASTER -> INIT (shutdown)
	// holds VIP: false
}
