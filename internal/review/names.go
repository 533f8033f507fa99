package review

import (
	"context"
	"sync"
	"time"

	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// NameDirectory lists every employee's name by id: the view masks the
// names of the people a case's evidence names besides its subject
// (colleagues among an expense's attendees), each by their pseudonym.
type NameDirectory interface {
	Names(ctx context.Context) (map[string]string, error)
}

// namesEvery is how often the mask of HR names is rebuilt. It is a cache
// of MongoDB's data, not state: any replica rebuilds the same mask, and a
// person hired since is masked at most this late.
const namesEvery = 5 * time.Minute

type namesCache struct {
	mu   sync.Mutex
	at   time.Time
	mask *privacy.Mask
}

// othersMask masks every employee's name with their pseudonym (nil
// without a NameDirectory). A failed refresh keeps the last mask.
func (s *Service) othersMask(ctx context.Context) (*privacy.Mask, error) {
	if s.Names == nil {
		return nil, nil
	}
	s.names.mu.Lock()
	defer s.names.mu.Unlock()
	now := time.Now()
	if s.names.mask != nil && now.Sub(s.names.at) < namesEvery {
		return s.names.mask, nil
	}
	byID, err := s.Names.Names(ctx)
	if err != nil {
		if s.names.mask != nil {
			return s.names.mask, nil
		}
		return nil, err
	}
	m := &privacy.Mask{}
	for id, name := range byID {
		m.Add(s.Privacy.Subject(id), name)
	}
	s.names.mask, s.names.at = m, now
	return m, nil
}
