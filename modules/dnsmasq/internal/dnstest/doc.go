// Package dnstest holds what the tests of the dnsmasq app's packages
// share: a loopback UDP server that answers after dropping some queries.
// Only tests import it; it imports no package of the app.
package dnstest
