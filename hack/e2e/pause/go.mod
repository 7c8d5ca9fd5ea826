// The e2e cluster's Pod sandbox ("pause") program, built here because no image registry is
// reachable. hack/e2e/prerequisites.sh builds it into a one-layer OCI image.
module agentrunbook.local/pause

go 1.24
