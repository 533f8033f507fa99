package main

// The business time zone (business.time_zone) must load in a distroless
// image, which has no /usr/share/zoneinfo: embed the zone database (~450 kB).
import _ "time/tzdata"
