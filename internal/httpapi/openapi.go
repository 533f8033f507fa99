package httpapi

import _ "embed"

// OpenAPI is the OpenAPI 3 description of every route, served at /openapi.yaml.
// TestOpenAPIDescribesEveryRoute keeps it and the router in step.
//
//go:embed openapi.yaml
var OpenAPI []byte
