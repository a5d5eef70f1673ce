package vrrp

import "io"

// DropReason says why a received packet was not obeyed. Every drop is
// counted by reason; the names follow keepalived's counters where it has one.
type DropReason uint8

const (
	DropNone      DropReason = iota
	DropShort                // shorter than its header or its address list (a short list)
	DropLength               // length inconsistent with Count IP Addrs
	DropVersion              // version not 2 or 3, or not the configured one
	DropType                 // type not 1 (ADVERTISEMENT)
	DropChecksum             // checksum mismatch
	DropAddrCount            // Count IP Addrs is zero
	DropTTL                  // IPv4 TTL or IPv6 hop limit is not 255
	DropAuth                 // v2 authentication type or password mismatch
	DropVRID                 // a VRID this router does not serve
	DropInterval             // v2 advertisement interval differs from ours
	DropPeer                 // unicast mode: source is not a configured peer
	DropOwn                  // our own advertisement looped back
	DropSource               // IPv6 multicast advert whose source is not link-local
	DropFamily               // address list of the other family, or src and dst of different families
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropNone:      "none",
	DropShort:     "packet_len_err",
	DropLength:    "packet_len_err_count",
	DropVersion:   "invalid_version",
	DropType:      "invalid_type_rcvd",
	DropChecksum:  "checksum_err",
	DropAddrCount: "addr_count_err",
	DropTTL:       "ip_ttl_err",
	DropAuth:      "auth_failure",
	DropVRID:      "unknown_vrid",
	DropInterval:  "advert_interval_err",
	DropPeer:      "unknown_peer",
	DropOwn:       "own_advert",
	DropSource:    "src_not_link_local",
	DropFamily:    "addr_family_err",
}

// String returns the counter name of r.
func (r DropReason) String() string {
	if r >= numDropReasons {
		return "unknown"
	}
	return dropNames[r]
}

// DropReasons lists every reason, for exporting counters.
func DropReasons() []DropReason {
	rs := make([]DropReason, 0, numDropReasons-1)
	for r := DropShort; r < numDropReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// A DropError is the typed error for a rejected packet. The package returns
// only the preallocated values below, so rejecting allocates nothing; compare
// with errors.Is or take the reason with errors.As.
type DropError struct{ Reason DropReason }

func (e *DropError) Error() string { return "vrrp: dropped packet: " + e.Reason.String() }

// Is makes ErrShort match io.ErrUnexpectedEOF, what a short read means
// everywhere else in Go.
func (e *DropError) Is(target error) bool {
	return e.Reason == DropShort && target == io.ErrUnexpectedEOF
}

var (
	ErrShort     = &DropError{DropShort}
	ErrLength    = &DropError{DropLength}
	ErrVersion   = &DropError{DropVersion}
	ErrType      = &DropError{DropType}
	ErrChecksum  = &DropError{DropChecksum}
	ErrAddrCount = &DropError{DropAddrCount}
	ErrTTL       = &DropError{DropTTL}
	ErrAuth      = &DropError{DropAuth}
	ErrVRID      = &DropError{DropVRID}
	ErrInterval  = &DropError{DropInterval}
	ErrPeer      = &DropError{DropPeer}
	ErrOwn       = &DropError{DropOwn}
	ErrSource    = &DropError{DropSource}
	ErrFamily    = &DropError{DropFamily}
)
