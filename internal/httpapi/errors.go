package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
)

// Error is an error with its HTTP status and contract code; handlers return
// it (or a domain sentinel mapped in mapError) through c.Error.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []Detail
	Err     error // cause, logged, never shown
}

// Detail is one item of an error's details, e.g. a field and what is wrong.
type Detail struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Index   *int   `json:"index,omitempty"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// BadRequest is a 400 with details.
func BadRequest(code, msg string, details ...Detail) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg, Details: details}
}

// NotFound is a 404.
func NotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details"`
}

// Mapper turns domain errors into API errors; packages that add routes
// register theirs so one middleware maps everything.
type Mapper func(error) (*Error, bool)

// errorMiddleware writes the first error a handler recorded, in the contract's
// shape. Unknown errors are 500 with no detail given to the client.
func errorMiddleware(mappers []Mapper, log func(c *gin.Context, status int, err error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 {
			return
		}
		err := c.Errors[0].Err
		apiErr := toAPIError(err, mappers)
		log(c, apiErr.Status, err)
		if c.Writer.Written() {
			return
		}
		details := apiErr.Details
		if details == nil {
			details = []Detail{}
		}
		if apiErr.Message == "the request is invalid" && len(details) > 0 {
			// Name the fields in words for people (issue 14); details keep
			// the paths for programs.
			cp := *apiErr
			cp.Message = inWords(details)
			apiErr = &cp
		}
		c.AbortWithStatusJSON(apiErr.Status, errorBody{Error: errorPayload{Code: apiErr.Code, Message: apiErr.Message, Details: details}})
	}
}

func toAPIError(err error, mappers []Mapper) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "request body is larger than the limit"}
	case errors.Is(err, auth.ErrUnauthenticated):
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: publicAuthMessage(err)}
	case errors.Is(err, auth.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "your roles do not allow this"}
	}
	for _, m := range mappers {
		if e, ok := m(err); ok {
			return e
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; it has been logged"}
}

// publicAuthMessage keeps the reason a token was refused (expired, wrong
// audience…) which helps a client, and nothing else.
func publicAuthMessage(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}
