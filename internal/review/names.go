package review

import (
	"context"
	"sync"
	"time"

	"github.com/moonlight-oss/moonlight/internal/privacy"
)

// NameDirectory lists every employee's id, name and email: the view masks
// the people a case's texts name besides its subject (colleagues among an
// expense's attendees, a manager's id), each by their pseudonym.
type NameDirectory interface {
	Names(ctx context.Context) ([]privacy.Person, error)
}

// namesEvery is how often the mask of HR names is rebuilt. It is a cache
// of MongoDB's data, not state: any replica rebuilds the same mask, and a
// person hired since is masked at most this late.
const namesEvery = 5 * time.Minute

type namesCache struct {
	mu   sync.Mutex
	at   time.Time
	mask *privacy.Dictionary
}

// othersMask masks every employee's id, name and email with their
// pseudonym (nil without a NameDirectory), in one pass per text whatever
// the number of employees. A failed refresh keeps the last one.
func (s *Service) othersMask(ctx context.Context) (*privacy.Dictionary, error) {
	if s.Names == nil {
		return nil, nil
	}
	s.names.mu.Lock()
	defer s.names.mu.Unlock()
	now := time.Now()
	if s.names.mask != nil && now.Sub(s.names.at) < namesEvery {
		return s.names.mask, nil
	}
	people, err := s.Names.Names(ctx)
	if err != nil {
		if s.names.mask != nil {
			return s.names.mask, nil
		}
		return nil, err
	}
	d := privacy.NewDictionary(people, s.Privacy.Subject)
	s.names.mask, s.names.at = d, now
	return d, nil
}
