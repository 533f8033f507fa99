package civil

import (
	"testing"
	"time"
)

func TestInTakesTheDayOfTheZone(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 6, 30, 20, 31, 0, 0, time.UTC)
	tests := []struct {
		name string
		give *time.Location
		want Date
	}{
		{"Asia/Shanghai is already the next day", shanghai, "2024-07-01"},
		{"UTC", time.UTC, "2024-06-30"},
		{"nil is UTC", nil, "2024-06-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := In(at, tt.give); got != tt.want {
				t.Errorf("In(%s) = %s, want %s", at, got, tt.want)
			}
			if got := In(at.In(shanghai), tt.give); got != tt.want {
				t.Errorf("the instant's own offset changed the day: %s, want %s", got, tt.want)
			}
		})
	}
}
