package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/idempotency"
)

// idempotencyKeyPattern is the accepted shape of an Idempotency-Key: 1 to
// 255 visible ASCII characters (a UUID, typically).
var idempotencyKeyPattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// disclosureIDSpace names the UUIDs of idempotent creates.
var disclosureIDSpace = uuid.MustParse("6f1c1e0a-5d55-4d7e-9a55-7c1e0d7f4a10")

// createIdempotent is POST /me/disclosures with an Idempotency-Key: the
// first request with a key creates, every later one with the same key and
// body gets the same answer (Idempotent-Replayed: true), and the same key
// with another body is 422. The declaration's id is derived from the
// caller and key, so even two requests racing past the record create one
// declaration (the store's unique _id), and a request whose first attempt
// stopped half-way finishes it.
func (h DisclosureRoutes) createIdempotent(c *gin.Context, key string) {
	if !idempotencyKeyPattern.MatchString(key) {
		_ = c.Error(BadRequest("invalid_header", "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
			Detail{Field: "Idempotency-Key", Message: "must be 1 to 255 visible ASCII characters, e.g. a UUID"}))
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			_ = c.Error(err)
			return
		}
		_ = c.Error(BadRequest("invalid_body", "could not read the request body"))
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	var req disclosureRequest
	if err := bindJSON(c, &req, false); err != nil {
		_ = c.Error(err)
		return
	}
	ctx, a := c.Request.Context(), actor(c)
	recID := idempotency.ID("disclosure.create", a.ID, key)
	hash := idempotency.Hash(body)
	rec, claimed, err := h.Idempotency.Claim(ctx, recID, a.ID, hash, time.Now())
	if err != nil {
		_ = c.Error(err)
		return
	}
	if !claimed {
		if rec.RequestHash != hash {
			_ = c.Error(&Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
				Message: "this Idempotency-Key was used for another request body; use a new key for a new declaration",
				Details: []Detail{{Field: "Idempotency-Key", Message: "was used for a different request"}}})
			return
		}
		if rec.Status != 0 {
			c.Header("Idempotent-Replayed", "true")
			c.Data(rec.Status, "application/json; charset=utf-8", rec.Body)
			return
		}
		// The first request is still running or stopped: go on with the
		// same id, which the store lets exist once.
	}
	id := uuid.NewSHA1(disclosureIDSpace, []byte(recID)).String()
	d, err := h.Service.CreateWithID(ctx, a, req.input(), id)
	replayed := false
	if errors.Is(err, disclosure.ErrConflict) {
		d, err = h.Service.Get(ctx, a, id)
		replayed = true
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := json.Marshal(toDisclosureJSON(d))
	if err != nil {
		_ = c.Error(err)
		return
	}
	if err := h.Idempotency.Complete(ctx, recID, http.StatusCreated, out); err != nil {
		_ = c.Error(err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/disclosures/"+d.ID)
	c.Data(http.StatusCreated, "application/json; charset=utf-8", out)
}
