// Package spec holds the copies of the two contracts Moonlight implements
// (api.md, events.md). They are maintained in ../shared/spec/ beside the
// repository; the test here fails when the copies drift from it.
package spec
