// Package check validates the deployment files without a cluster or a
// container engine: the Helm chart is linted and rendered with Helm's own
// packages (what `helm lint` and `helm template` run), every rendered
// manifest is decoded strictly into the Kubernetes API types, and the compose
// file is loaded with the Compose specification's reference loader. The
// settings both give Moonlight are loaded by Moonlight's own config package,
// which refuses unknown names.
//
// It is a module of its own so that Helm and the Kubernetes API types stay out
// of the service's dependencies. Run: make test-deploy.
package check
