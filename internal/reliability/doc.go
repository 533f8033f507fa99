// Package reliability holds the reliability suite: tests that run `moonlight
// serve`, the standalone embedded database and broker, and real Apache Kafka
// as separate processes, then kill, stop and restart them while events stream
// in, and check that nothing is lost or stored twice. The tests run only when
// MOONLIGHT_RELIABILITY=1 (deployments/reliability.sh, `make
// test-reliability`); see docs/reliability.md.
package reliability
