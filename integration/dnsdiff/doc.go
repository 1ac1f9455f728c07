// Package dnsdiff is the generative differential tester of the dnsmasq app:
// it generates dnsmasq configurations (with hosts files and a zone for a
// loopback upstream it serves itself) and questions about the names they
// configure, asks real dnsmasq 2.90 and Frontdesk the same questions on
// loopback, compares the answers, and shrinks every difference to a minimal
// regression case (see Case) that integration/dnsmasq_generative_test.go
// replays.
//
// The files, by the path a case takes:
//
//	generate.go   the configuration and question grammar (pools of names and addresses)
//	coverage.go   the parser's option table walked: each option generated or excluded with a reason
//	upstream.go   the loopback upstream serving a generated zone
//	servers.go    real dnsmasq (a process per configuration) and Frontdesk (one process, reloaded)
//	compare.go    normalising two answers and naming their difference (the signature)
//	allowed.go    the documented differences
//	shrink.go     delta debugging of a failing case
//	case.go       the regression case file format
//	run.go        the loop: configurations, questions, differences, report
//	accept.go     configuration acceptance parity (dnsmasq --test vs frontdesk validate)
//
// The program is cmd/dnsdiff:
//
//	go run ./integration/dnsdiff/cmd/dnsdiff -seed 1 -pairs 200000
package dnsdiff
