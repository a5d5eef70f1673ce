package ui

import (
	"fmt"
	"strings"
)

// This file says which node answered a probe request, and never more than
// the evidence shows. The probe names who answered from the X-Served-By
// header (nginx: `add_header X-Served-By $hostname always;`), else the
// VIP's MAC in the console host's neighbour table when that is one node's,
// else the lab nginx's body ("ok n1"). A name is a node of the pair only
// if it is the node's name, or the hostname (or its first label) or
// router_id of exactly one node's vipd: lab nodes share one hostname, and
// their nginx names itself literally.

// answeredBy maps s.Backend to a node of p, or clears it; From keeps the
// claim that named no node.
func (p *pairView) answeredBy(s ProbeSample) ProbeSample {
	if s.Backend == "" || p.node(s.Backend) != nil {
		return s
	}
	claim := s.Backend
	var match []string
	for _, n := range p.nodes {
		if n.status != nil && identifies(claim, n.status.Hostname, n.status.RouterID) {
			match = append(match, n.name)
		}
	}
	switch len(match) {
	case 1:
		s.Backend, s.From = match[0], fmt.Sprintf("%s %s", orOK(s.From, "named"), claim)
	case 0:
		s.Backend, s.From = "", fmt.Sprintf("%s %q names no node of the pair", orOK(s.From, "the answer"), claim)
	default:
		s.Backend, s.From = "", fmt.Sprintf("%s %q fits %s alike", orOK(s.From, "the answer"), claim, strings.Join(match, " and "))
	}
	return s
}

// identifies reports whether claim is hostname (or its first label, either
// way) or routerID.
func identifies(claim, hostname, routerID string) bool {
	first := func(h string) string { f, _, _ := strings.Cut(h, "."); return f }
	switch {
	case claim == "":
		return false
	case routerID != "" && strings.EqualFold(claim, routerID):
		return true
	case hostname == "":
		return false
	}
	return strings.EqualFold(claim, hostname) || strings.EqualFold(first(claim), first(hostname))
}

// unknownWhy says why an answer names no node.
func unknownWhy(s ProbeSample) string {
	if s.From != "" {
		return s.From
	}
	return "no " + HeaderServedBy + " header, and the VIP's MAC is not known to be a node's"
}

// HeaderServedBy is the response header that names the node that
// answered. nginx sets it with one line in the server block:
//
//	add_header X-Served-By $hostname always;
const HeaderServedBy = "X-Served-By"

// paren is " (s)", or "" for no s.
func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
