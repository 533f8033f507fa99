// Package auth turns a bearer JWT into a Principal (who is calling, with which
// roles) and guards Gin routes by role.
//
// Two modes, chosen in config:
//
//   - dev: tokens are HS256-signed with a shared secret from config. The demo
//     and `moonlight token` use this; IssueDevToken refuses in any other mode
//     so a production deployment cannot mint tokens by mistake.
//   - oidc: tokens come from the company's identity provider. The discovery
//     document is fetched once at start-up (a wrong issuer URL fails fast,
//     not on the first request) and keys come from its JWKS, refreshed by
//     go-oidc when an unknown key id appears (key rotation).
//
// Decisions:
//
//   - Algorithms are allow-listed per mode (HS256 in dev; RS256 and ES256 in
//     oidc), so "alg: none" and key-confusion tokens (HS256 signed with the
//     IdP's public key) fail before any key is used.
//   - exp is required in both modes; nbf is honoured when present. In oidc
//     mode go-oidc checks the signature and algorithm, and this package
//     checks issuer, audience, exp and nbf itself: with the configured
//     ClockSkew rather than go-oidc's fixed five minutes, and with the same
//     failure reasons as dev mode.
//   - Every verification failure wraps ErrUnauthenticated (401); a missing
//     role wraps ErrForbidden (403). The middleware only records the error
//     with c.Error and aborts: one error middleware elsewhere writes the
//     response, so the JSON shape lives in one place.
//   - Roles come from a configurable claim. A claim name is first looked up
//     as is (Auth0-style "https://example.com/roles" contains dots), then as
//     a dotted path ("realm_access.roles" for Keycloak). The value may be an
//     array or one string of space- or comma-separated names. Only the roles
//     Moonlight knows are kept (IdPs add many of their own), and every
//     signed-in caller also has RoleEmployee.
//   - The subject (sub) is the employee id and must be present.
package auth
