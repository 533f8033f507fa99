package check

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/moonlight-oss/moonlight/internal/config"
)

const chartDir = "../helm/moonlight"

// testValues are what an installation must add to the chart's defaults.
func testValues() map[string]any {
	return map[string]any{"secrets": map[string]any{"existingSecret": "moonlight-secrets"}}
}

// kinds maps each kind the chart may render to its API type.
var kinds = map[string]func() any{
	"Deployment":              func() any { return &appsv1.Deployment{} },
	"Service":                 func() any { return &corev1.Service{} },
	"ConfigMap":               func() any { return &corev1.ConfigMap{} },
	"Secret":                  func() any { return &corev1.Secret{} },
	"ServiceAccount":          func() any { return &corev1.ServiceAccount{} },
	"PodDisruptionBudget":     func() any { return &policyv1.PodDisruptionBudget{} },
	"HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"NetworkPolicy":           func() any { return &networkingv1.NetworkPolicy{} },
	"ServiceMonitor":          func() any { return &monitoringv1.ServiceMonitor{} },
}

// apiVersions is the group/version each kind must be rendered with.
var apiVersions = map[string]string{
	"Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1", "ServiceAccount": "v1",
	"PodDisruptionBudget": "policy/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
	"NetworkPolicy": "networking.k8s.io/v1", "ServiceMonitor": "monitoring.coreos.com/v1",
}

// rendered is the chart's output decoded: objects by kind.
type rendered map[string][]any

// render runs `helm template` in process with values over the defaults and
// decodes every manifest strictly: an unknown or misspelt field fails.
func render(t *testing.T, values map[string]any) (rendered, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: "moonlight", Namespace: "compliance", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	out := rendered{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s #%d: %v", name, i, err)
			}
			newObj, ok := kinds[tm.Kind]
			if !ok {
				t.Fatalf("%s #%d: kind %q is not one the check knows", name, i, tm.Kind)
			}
			if tm.APIVersion != apiVersions[tm.Kind] {
				t.Errorf("%s: %s has apiVersion %q, want %q", name, tm.Kind, tm.APIVersion, apiVersions[tm.Kind])
			}
			obj := newObj()
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Errorf("%s #%d (%s) does not decode strictly: %v", name, i, tm.Kind, err)
				continue
			}
			out[tm.Kind] = append(out[tm.Kind], obj)
		}
	}
	return out, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func one[T any](t *testing.T, r rendered, kind, name string) *T {
	t.Helper()
	for _, o := range r[kind] {
		v := o.(*T)
		if reflect.ValueOf(v).Elem().FieldByName("ObjectMeta").Interface().(metav1.ObjectMeta).Name == name {
			return v
		}
	}
	t.Fatalf("no %s %q rendered", kind, name)
	return nil
}

// TestChartLints is `helm lint --strict` with the values an installation sets.
func TestChartLints(t *testing.T) {
	res := lint.All(chartDir, testValues(), "compliance", true)
	for _, m := range res.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		} else {
			t.Logf("helm lint: %s", m)
		}
	}
}

// TestChartRendersValidManifests: the default installation renders every
// object the platform needs, each decoding strictly into its API type, and
// wired as the issue asks.
func TestChartRendersValidManifests(t *testing.T) {
	r, err := render(t, testValues())
	if err != nil {
		t.Fatal(err)
	}
	for kind := range kinds {
		if kind != "Secret" && len(r[kind]) == 0 {
			t.Errorf("no %s rendered", kind)
		}
	}
	if len(r["Secret"]) != 0 {
		t.Errorf("a Secret was rendered although secrets.existingSecret is set")
	}

	d := one[appsv1.Deployment](t, r, "Deployment", "moonlight")
	if d.Spec.Replicas != nil {
		t.Errorf("replicas set to %d although the HPA scales the Deployment", *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("pod security context %+v, want non-root", pod.SecurityContext)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil || len(sc.Capabilities.Drop) == 0 {
		t.Errorf("container security context %+v", c.SecurityContext)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != 8080 || ports["admin"] != 9090 {
		t.Errorf("container ports %v, want http 8080 and admin 9090", ports)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "admin" {
			t.Errorf("%s probe %+v, want GET %s on the admin port", p.name, p.probe, p.path)
		}
	}
	fromSecret := map[string]bool{}
	for _, e := range c.Env {
		if e.Value != "" {
			t.Errorf("env %s has a literal value; settings come from the ConfigMap, secrets from the Secret", e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == "moonlight-secrets" {
			fromSecret[e.Name] = true
		}
	}
	for _, name := range []string{"MOONLIGHT_MONGO_URI", "MOONLIGHT_AUTH_OIDC_CLIENT_SECRET", "MOONLIGHT_WEB_SESSION_SECRET", "MOONLIGHT_PRIVACY_PSEUDONYM_KEY"} {
		if !fromSecret[name] {
			t.Errorf("%s does not come from the Secret", name)
		}
	}

	// The ConfigMap is a configuration Moonlight accepts, with the secrets
	// the Deployment adds from the Secret.
	cm := one[corev1.ConfigMap](t, r, "ConfigMap", "moonlight")
	cfg := loadMoonlightConfig(t, cm.Data["moonlight.yaml"], []string{
		"MOONLIGHT_MONGO_URI=mongodb://m1:27017,m2:27017,m3:27017/?replicaSet=rs0",
		"MOONLIGHT_AUTH_OIDC_CLIENT_SECRET=client-secret",
		"MOONLIGHT_WEB_SESSION_SECRET=" + strings.Repeat("s", 32),
		"MOONLIGHT_PRIVACY_PSEUDONYM_KEY=" + strings.Repeat("p", 32),
	})
	if cfg.HTTP.Addr != "0.0.0.0:8080" || cfg.HTTP.AdminAddr != "0.0.0.0:9090" || cfg.Auth.Mode != "oidc" {
		t.Errorf("config: http %s admin %s auth %s", cfg.HTTP.Addr, cfg.HTTP.AdminAddr, cfg.Auth.Mode)
	}

	admin := one[corev1.Service](t, r, "Service", "moonlight-admin")
	if len(admin.Spec.Ports) != 1 || admin.Spec.Ports[0].TargetPort.String() != "admin" {
		t.Errorf("admin service ports %+v", admin.Spec.Ports)
	}
	svc := one[corev1.Service](t, r, "Service", "moonlight")
	for _, p := range svc.Spec.Ports {
		if p.TargetPort.String() == "admin" {
			t.Errorf("the public service exposes the admin port")
		}
	}
	sm := one[monitoringv1.ServiceMonitor](t, r, "ServiceMonitor", "moonlight")
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "admin" || sm.Spec.Endpoints[0].Path != "/metrics" ||
		sm.Spec.Selector.MatchLabels["app.kubernetes.io/component"] != "admin" {
		t.Errorf("service monitor %+v, want /metrics on the admin service", sm.Spec)
	}

	hpa := one[autoscalingv2.HorizontalPodAutoscaler](t, r, "HorizontalPodAutoscaler", "moonlight")
	if hpa.Spec.ScaleTargetRef.Name != "moonlight" || len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Type != autoscalingv2.PodsMetricSourceType ||
		hpa.Spec.Metrics[0].Pods.Metric.Name != "moonlight_consumer_lag" {
		t.Errorf("hpa %+v, want the Deployment scaled on moonlight_consumer_lag", hpa.Spec)
	}
	if *hpa.Spec.MinReplicas < 2 {
		t.Errorf("minReplicas %d, want at least 2", *hpa.Spec.MinReplicas)
	}
	pdb := one[policyv1.PodDisruptionBudget](t, r, "PodDisruptionBudget", "moonlight")
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "moonlight" {
		t.Errorf("pdb %+v", pdb.Spec)
	}
	np := one[networkingv1.NetworkPolicy](t, r, "NetworkPolicy", "moonlight")
	if len(np.Spec.Ingress) != 2 || len(np.Spec.Ingress[1].From) == 0 || np.Spec.Ingress[1].Ports[0].Port.String() != "admin" {
		t.Errorf("network policy ingress %+v, want the admin port limited to the monitoring namespace", np.Spec.Ingress)
	}
}

// TestChartVariants: the other supported settings render valid manifests,
// and an installation without secrets is refused with a message.
func TestChartVariants(t *testing.T) {
	t.Run("external lag metric, fixed replicas, created secret", func(t *testing.T) {
		r, err := render(t, map[string]any{
			"autoscaling": map[string]any{"lag": map[string]any{"type": "External"}},
			"secrets":     map[string]any{"create": true, "values": map[string]any{"mongo-uri": "mongodb://m/"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		hpa := one[autoscalingv2.HorizontalPodAutoscaler](t, r, "HorizontalPodAutoscaler", "moonlight")
		if m := hpa.Spec.Metrics[0]; m.Type != autoscalingv2.ExternalMetricSourceType || m.External.Metric.Name != "kafka_consumergroup_lag" ||
			m.External.Metric.Selector.MatchLabels["consumergroup"] != "moonlight" {
			t.Errorf("external metric %+v", m)
		}
		one[corev1.Secret](t, r, "Secret", "moonlight")
	})
	t.Run("no autoscaling, no monitor, no policy", func(t *testing.T) {
		v := testValues()
		v["autoscaling"] = map[string]any{"enabled": false}
		v["serviceMonitor"] = map[string]any{"enabled": false}
		v["networkPolicy"] = map[string]any{"enabled": false}
		r, err := render(t, v)
		if err != nil {
			t.Fatal(err)
		}
		if d := one[appsv1.Deployment](t, r, "Deployment", "moonlight"); d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("replicas %v, want 2", d.Spec.Replicas)
		}
		for _, k := range []string{"HorizontalPodAutoscaler", "ServiceMonitor", "NetworkPolicy"} {
			if len(r[k]) != 0 {
				t.Errorf("%s rendered although disabled", k)
			}
		}
	})
	t.Run("no secrets", func(t *testing.T) {
		_, err := render(t, nil)
		if err == nil || !strings.Contains(err.Error(), "secrets.existingSecret") {
			t.Errorf("render without secrets: %v, want a message naming secrets.existingSecret", err)
		}
	})
	t.Run("unknown lag type", func(t *testing.T) {
		v := testValues()
		v["autoscaling"] = map[string]any{"lag": map[string]any{"type": "CPU"}}
		if _, err := render(t, v); err == nil {
			t.Error("rendered with autoscaling.lag.type CPU")
		}
	})
}

// loadMoonlightConfig loads a Moonlight config file with the environment,
// as `moonlight serve --config` does, failing on what it refuses.
func loadMoonlightConfig(t *testing.T, content string, environ []string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "moonlight.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, environ)
	if err != nil {
		t.Fatalf("moonlight refuses the configuration: %v\n%s", err, content)
	}
	return cfg
}
