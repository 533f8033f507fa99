package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

const composeDir = "../compose"

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(composeDir, "docker-compose.yaml")},
		cli.WithWorkingDirectory(composeDir), cli.WithName("moonlight"), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("compose file does not load: %v", err)
	}
	return p
}

func env(s types.ServiceConfig, name string) string {
	if v, ok := s.Environment[name]; ok && v != nil {
		return *v
	}
	return ""
}

// TestComposeFile loads deployments/compose with the Compose reference
// loader (schema, interpolation, env files, anchors) and checks what the
// issue asks of it.
func TestComposeFile(t *testing.T) {
	p := loadCompose(t)
	want := []string{"certs", "kafka", "keycloak", "mongo-init", "mongo1", "mongo2", "mongo3", "moonlight-1", "moonlight-2", "prometheus"}
	got := p.ServiceNames()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}

	// Apache Kafka in KRaft mode: broker and controller, no ZooKeeper.
	k, _ := p.GetService("kafka")
	if !strings.HasPrefix(k.Image, "apache/kafka:") || !strings.Contains(env(k, "KAFKA_PROCESS_ROLES"), "controller") ||
		env(k, "KAFKA_CONTROLLER_QUORUM_VOTERS") == "" || env(k, "KAFKA_ZOOKEEPER_CONNECT") != "" {
		t.Errorf("kafka: image %s roles %q voters %q: want Apache Kafka in KRaft mode", k.Image, env(k, "KAFKA_PROCESS_ROLES"), env(k, "KAFKA_CONTROLLER_QUORUM_VOTERS"))
	}

	// Three replica-set members, initiated by a job that names each.
	initJS, err := os.ReadFile(filepath.Join(composeDir, "mongo-init.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"mongo1", "mongo2", "mongo3"} {
		s, _ := p.GetService(m)
		if !slices.Contains(s.Command, "--replSet") || s.Command[slices.Index(s.Command, "--replSet")+1] != "rs0" {
			t.Errorf("%s command %v, want --replSet rs0", m, s.Command)
		}
		if !strings.Contains(string(initJS), `host: "`+m+`:27017"`) {
			t.Errorf("mongo-init.js does not make %s a member", m)
		}
	}
	initJob, _ := p.GetService("mongo-init")
	for _, m := range []string{"mongo1", "mongo2", "mongo3"} {
		if d, ok := initJob.DependsOn[m]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("mongo-init does not wait for %s to be healthy", m)
		}
	}

	// Healthchecks on every long-running service but Prometheus.
	for _, name := range []string{"kafka", "mongo1", "mongo2", "mongo3", "keycloak", "moonlight-1", "moonlight-2"} {
		s, _ := p.GetService(name)
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			t.Errorf("%s has no healthcheck", name)
		}
	}

	// The OIDC provider with the realm whose tokens carry the roles claim.
	kc, _ := p.GetService("keycloak")
	if !strings.Contains(kc.Image, "keycloak") || !slices.Contains(kc.Command, "--import-realm") {
		t.Errorf("keycloak: image %s command %v", kc.Image, kc.Command)
	}
	checkRealm(t)

	// Two replicas of the production image, in one consumer group, each a
	// configuration Moonlight accepts.
	var groups []string
	for _, name := range []string{"moonlight-1", "moonlight-2"} {
		s, _ := p.GetService(name)
		if s.Build == nil || s.Build.Dockerfile != "deployments/docker/Dockerfile" {
			t.Errorf("%s is not built from deployments/docker/Dockerfile: %+v", name, s.Build)
		}
		for _, dep := range []string{"kafka", "mongo-init", "keycloak"} {
			if _, ok := s.DependsOn[dep]; !ok {
				t.Errorf("%s does not wait for %s", name, dep)
			}
		}
		var environ []string
		for k, v := range s.Environment {
			if v != nil && strings.HasPrefix(k, "MOONLIGHT_") {
				environ = append(environ, k+"="+*v)
			}
		}
		cfg := loadMoonlightConfig(t, "", environ)
		groups = append(groups, cfg.Kafka.GroupID)
		if cfg.Auth.Mode != "oidc" || cfg.Auth.RolesClaim != "roles" || !strings.Contains(cfg.Mongo.URI, "replicaSet=rs0") ||
			!strings.Contains(cfg.Mongo.URI, "mongo3:27017") || cfg.Kafka.Brokers[0] != "kafka:9092" {
			t.Errorf("%s: auth %s roles claim %s mongo %s kafka %v", name, cfg.Auth.Mode, cfg.Auth.RolesClaim, cfg.Mongo.URI, cfg.Kafka.Brokers)
		}
		if cfg.Auth.OIDC.IssuerURL != "https://keycloak:8443/realms/moonlight" || env(s, "SSL_CERT_FILE") != "/certs/tls.crt" {
			t.Errorf("%s issuer %s (CA file %q), want the compose Keycloak realm over TLS", name, cfg.Auth.OIDC.IssuerURL, env(s, "SSL_CERT_FILE"))
		}
	}
	if groups[0] == "" || groups[0] != groups[1] {
		t.Errorf("consumer groups %v, want one group for both replicas", groups)
	}

	// Prometheus scrapes both replicas' admin ports.
	raw, err := os.ReadFile(filepath.Join(composeDir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &prom); err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	slices.Sort(targets)
	if !slices.Equal(targets, []string{"moonlight-1:9090", "moonlight-2:9090"}) {
		t.Errorf("prometheus targets %v, want both admin ports", targets)
	}
}

// checkRealm: the realm maps realm roles to the "roles" claim Moonlight
// reads, puts the client in the audience, and defines Moonlight's roles.
func checkRealm(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(composeDir, "keycloak", "moonlight-realm.json"))
	if err != nil {
		t.Fatal(err)
	}
	var realm struct {
		Realm string `json:"realm"`
		Roles struct {
			Realm []struct {
				Name string `json:"name"`
			} `json:"realm"`
		} `json:"roles"`
		Clients []struct {
			ClientID        string   `json:"clientId"`
			Secret          string   `json:"secret"`
			RedirectURIs    []string `json:"redirectUris"`
			ProtocolMappers []struct {
				ProtocolMapper string            `json:"protocolMapper"`
				Config         map[string]string `json:"config"`
			} `json:"protocolMappers"`
		} `json:"clients"`
	}
	if err := yaml.Unmarshal(raw, &realm); err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, r := range realm.Roles.Realm {
		roles = append(roles, r.Name)
	}
	for _, r := range []string{"employee", "manager", "compliance", "auditor", "admin"} {
		if !slices.Contains(roles, r) {
			t.Errorf("realm has no role %s", r)
		}
	}
	if realm.Realm != "moonlight" || len(realm.Clients) != 1 || realm.Clients[0].ClientID != "moonlight" {
		t.Fatalf("realm %s clients %+v", realm.Realm, realm.Clients)
	}
	c := realm.Clients[0]
	var rolesClaim, audience bool
	for _, m := range c.ProtocolMappers {
		switch m.ProtocolMapper {
		case "oidc-usermodel-realm-role-mapper":
			rolesClaim = m.Config["claim.name"] == "roles" && m.Config["multivalued"] == "true" && m.Config["access.token.claim"] == "true"
		case "oidc-audience-mapper":
			audience = m.Config["included.client.audience"] == "moonlight"
		}
	}
	if !rolesClaim || !audience {
		t.Errorf("realm mappers: roles claim %v, audience %v; want both", rolesClaim, audience)
	}
	envFile, err := os.ReadFile(filepath.Join(composeDir, "moonlight.env"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(envFile), "MOONLIGHT_AUTH_OIDC_CLIENT_SECRET="+c.Secret+"\n") {
		t.Error("the replicas' client secret is not the realm's")
	}
	for _, u := range []string{"http://localhost:8081/signin/callback", "http://localhost:8082/signin/callback"} {
		if !slices.Contains(c.RedirectURIs, u) {
			t.Errorf("realm does not allow the redirect %s", u)
		}
	}
}
