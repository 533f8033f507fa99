// Package profile keeps each person's display preferences: the language of
// the UI and the time zone times are shown in. They are stored server-side
// (MongoDB, by employee id), so they follow the person to every browser and
// replica; without a profile the UI uses the browser's language and the
// business time zone (business.time_zone).
package profile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	// The zone database is compiled in, so zones load in distroless images
	// that have no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// ErrNotFound: the person has no saved profile.
var ErrNotFound = errors.New("no profile")

// ErrInvalid: a preference is not one the UI offers.
var ErrInvalid = errors.New("invalid profile")

// Profile is one person's preferences; empty fields mean "the default".
type Profile struct {
	Subject string
	// Lang is a UI language code ("en", "zh-Hans"), "" for the browser's.
	Lang string
	// TimeZone is an IANA zone name, "" for the business zone.
	TimeZone  string
	UpdatedAt time.Time
}

// Store keeps profiles.
type Store interface {
	// Get returns subject's profile, or ErrNotFound.
	Get(ctx context.Context, subject string) (Profile, error)
	// Save writes p whole (the person's last choice wins).
	Save(ctx context.Context, p Profile) error
}

// Zone loads an IANA zone name the UI may offer: a real region zone or UTC,
// never "Local" (the server's, which means nothing to the viewer).
func Zone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.ContainsAny(name, " \t\n") || len(name) > 64 {
		return nil, fmt.Errorf("time zone %q: %w", name, ErrInvalid)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not an IANA zone: %w", name, ErrInvalid)
	}
	return loc, nil
}

// Zones are the zones the profile page offers first (any IANA name is
// accepted): the company's offices and its partners'.
var Zones = []string{
	"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Asia/Kolkata",
	"Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC",
}
