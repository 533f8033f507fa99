// Package acceptance holds the end-to-end acceptance tests of issue 4: the
// whole service started in-process against a real Kafka-protocol broker and a
// real MongoDB-wire database, fed events of the contract through Kafka and
// checked through the HTTP API only. It has no code besides its tests.
package acceptance
