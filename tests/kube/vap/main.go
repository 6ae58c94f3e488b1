// vap-check: runs deploy/'s ValidatingAdmissionPolicy and its binding through the upstream
// admission plugin (k8s.io/apiserver's ValidatingAdmissionPolicy: matching, matchConditions,
// variables, CEL validations, messageExpression, binding actions) against admission requests
// on NodeResourceTopology objects, and checks each decision (docs/kubernetes.md).
//
// The policy reaches the plugin the way it does in a cluster: as API objects, listed by the
// plugin's informers (from a fake clientset here, as the apiserver's own tests do). The user
// of each request is built by the apiserver's service-account code from what a bound token
// carries, so the node-name extra is exactly what kube-apiserver would put there.
//
// Usage: vap-check DEPLOY_DIR   (exit 0: every case as expected; 1: a case failed; 2: setup)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"
)

const policyFile = "validating-admission-policy.yaml"

var (
	nrtGVK = schema.GroupVersionKind{Group: "topology.node.k8s.io", Version: "v1alpha2", Kind: "NodeResourceTopology"}
	nrtGVR = schema.GroupVersionResource{Group: "topology.node.k8s.io", Version: "v1alpha2", Resource: "noderesourcetopologies"}
	podGVK = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	podGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

// loadManifests reads the policy and the binding from deploy/, refusing unknown fields (a typo
// in the manifest is an error here, as kube-apiserver's strict decoding would report it).
func loadManifests(path string) (*admissionregistrationv1.ValidatingAdmissionPolicy,
	*admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var policy *admissionregistrationv1.ValidatingAdmissionPolicy
	var binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	for {
		var doc map[string]interface{}
		if err := decoder.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		if doc == nil {
			continue
		}
		var target interface{}
		switch kind, _ := doc["kind"].(string); kind {
		case "ValidatingAdmissionPolicy":
			policy = &admissionregistrationv1.ValidatingAdmissionPolicy{}
			target = policy
		case "ValidatingAdmissionPolicyBinding":
			binding = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			target = binding
		default:
			return nil, nil, fmt.Errorf("%s: unexpected kind %q", path, kind)
		}
		if doc["apiVersion"] != admissionregistrationv1.SchemeGroupVersion.String() {
			return nil, nil, fmt.Errorf("%s: apiVersion %v, want %s", path, doc["apiVersion"],
				admissionregistrationv1.SchemeGroupVersion)
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(doc, target, true); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if policy == nil || binding == nil {
		return nil, nil, fmt.Errorf("%s: want one ValidatingAdmissionPolicy and one binding", path)
	}
	if binding.Spec.PolicyName != policy.Name {
		return nil, nil, fmt.Errorf("%s: binding names policy %q, the policy is %q", path,
			binding.Spec.PolicyName, policy.Name)
	}
	setDefaults(policy)
	return policy, binding, nil
}

// setDefaults applies what kube-apiserver's defaulting for admissionregistration.k8s.io/v1 does
// to a stored policy (k8s.io/kubernetes pkg/apis/admissionregistration/v1/defaults.go, not
// packaged in Debian): failurePolicy Fail, matchPolicy Equivalent, empty (match-all) namespace
// and object selectors, rule scope "*".
func setDefaults(policy *admissionregistrationv1.ValidatingAdmissionPolicy) {
	spec := &policy.Spec
	if spec.FailurePolicy == nil {
		fail := admissionregistrationv1.Fail
		spec.FailurePolicy = &fail
	}
	if spec.MatchConstraints == nil {
		return
	}
	match := spec.MatchConstraints
	if match.MatchPolicy == nil {
		equivalent := admissionregistrationv1.Equivalent
		match.MatchPolicy = &equivalent
	}
	if match.NamespaceSelector == nil {
		match.NamespaceSelector = &metav1.LabelSelector{}
	}
	if match.ObjectSelector == nil {
		match.ObjectSelector = &metav1.LabelSelector{}
	}
	for _, rules := range [][]admissionregistrationv1.NamedRuleWithOperations{match.ResourceRules, match.ExcludeResourceRules} {
		for i := range rules {
			if rules[i].Scope == nil {
				all := admissionregistrationv1.AllScopes
				rules[i].Scope = &all
			}
		}
	}
}

type allowAll struct{}

func (allowAll) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionAllow, "", nil
}

// checker holds an initialised plugin with one policy and binding loaded.
type checker struct {
	plugin *validating.Plugin
	stop   chan struct{}
}

// newChecker starts the plugin with the policy and the binding, plus a marker policy that denies
// only requests for an object named "marker": once the marker denies, the plugin has compiled
// the policies it listed (all come in the same list), whether or not the policy under test can
// deny anything.
func newChecker(policy *admissionregistrationv1.ValidatingAdmissionPolicy,
	binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding) (*checker, error) {
	marker := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "marker"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{nrtGVR.Group}, APIVersions: []string{"*"},
						Resources: []string{nrtGVR.Resource}},
				}}}},
			Validations: []admissionregistrationv1.Validation{{Expression: "request.name != 'marker'"}},
		},
	}
	setDefaults(marker)
	markerBinding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "marker"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "marker",
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
	}
	plugin, err := validating.NewPlugin(nil)
	if err != nil {
		return nil, err
	}
	client := fake.NewSimpleClientset(policy.DeepCopy(), binding.DeepCopy(), marker, markerBinding)
	factory := informers.NewSharedInformerFactory(client, 0)
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{nrtGVK.GroupVersion(), podGVK.GroupVersion()})
	mapper.Add(nrtGVK, meta.RESTScopeRoot)
	mapper.Add(podGVK, meta.RESTScopeNamespace)
	stop := make(chan struct{})
	plugin.SetExternalKubeInformerFactory(factory)
	plugin.SetExternalKubeClientSet(client)
	plugin.SetRESTMapper(mapper)
	plugin.SetDynamicClient(dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()))
	plugin.SetDrainedNotification(stop)
	plugin.SetAuthorizer(allowAll{})
	plugin.SetAPIServerID("topod-vap-check")
	if err := plugin.ValidateInitialization(); err != nil {
		close(stop)
		return nil, err
	}
	factory.Start(stop)
	c := &checker{plugin: plugin, stop: stop}
	probe := request{op: admission.Create, name: "marker", user: topodOn("worker-a")}
	// Bounded: the plugin's informers list at once and its source compiles within a second.
	// (Until it is ready, the plugin itself refuses with "not yet ready to handle request".)
	markerDenied := func() bool {
		err := c.validate(probe)
		return err != nil && strings.Contains(err.Error(), "ValidatingAdmissionPolicy 'marker'")
	}
	for deadline := time.Now().Add(30 * time.Second); !markerDenied(); {
		if time.Now().After(deadline) {
			c.close()
			return nil, errors.New("the policies never took effect (the marker policy never denied)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c, nil
}

func (c *checker) close() { close(c.stop) }

type request struct {
	op   admission.Operation
	name string
	gvk  schema.GroupVersionKind
	gvr  schema.GroupVersionResource
	ns   string
	user user.Info
}

func object(gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetName(name)
	u.SetNamespace(ns)
	if gvk == nrtGVK {
		u.Object["zones"] = []interface{}{}
		u.Object["attributes"] = []interface{}{}
	}
	return u
}

// validate sends one request through the plugin as the apiserver's admission chain would.
func (c *checker) validate(r request) error {
	gvk, gvr := r.gvk, r.gvr
	if gvk.Kind == "" {
		gvk, gvr = nrtGVK, nrtGVR
	}
	var obj, old runtime.Object
	var options runtime.Object
	switch r.op {
	case admission.Create:
		obj, options = object(gvk, r.ns, r.name), &metav1.CreateOptions{}
	case admission.Update:
		obj, old, options = object(gvk, r.ns, r.name), object(gvk, r.ns, r.name), &metav1.UpdateOptions{}
	case admission.Delete:
		old, options = object(gvk, r.ns, r.name), &metav1.DeleteOptions{}
	case admission.Connect:
	}
	attrs := admission.NewAttributesRecord(obj, old, gvk, r.ns, r.name, gvr, "", r.op, options, false, r.user)
	return c.plugin.Validate(context.Background(), attrs, admission.NewObjectInterfacesFromScheme(runtime.NewScheme()))
}

// topodOn is topod's service account with a token bound to a pod on node (what the apiserver's
// service-account authenticator makes of a projected token, Kubernetes >= 1.30).
func topodOn(node string) user.Info {
	info := serviceaccount.ServiceAccountInfo{Name: "topod", Namespace: "topod-system", UID: "sa-uid",
		PodName: "topod-x", PodUID: "pod-uid", NodeName: node}
	if node != "" {
		info.NodeUID = "node-uid-" + node
	}
	return info.UserInfo()
}

type testCase struct {
	name string
	req  request
	// denied: the substring the denial must contain; "" = allowed.
	denied string
}

func cases() []testCase {
	ownB := "topod may write only the NodeResourceTopology of its own node (worker-a), not worker-b"
	noNode := "this token has no node name (authentication.kubernetes.io/node-name)"
	var all []testCase
	for _, op := range []admission.Operation{admission.Create, admission.Update, admission.Delete} {
		all = append(all,
			testCase{fmt.Sprintf("%s own node's object", op), request{op: op, name: "worker-a", user: topodOn("worker-a")}, ""},
			testCase{fmt.Sprintf("%s another node's object", op), request{op: op, name: "worker-b", user: topodOn("worker-a")}, ownB},
			testCase{fmt.Sprintf("%s with a bound token without node name (before 1.30)", op),
				request{op: op, name: "worker-a", user: topodOn("")}, noNode},
		)
	}
	emptyClaim := &user.DefaultInfo{Name: serviceaccount.MakeUsername("topod-system", "topod"),
		Groups: serviceaccount.MakeGroupNames("topod-system"), Extra: map[string][]string{serviceaccount.NodeNameKey: {}}}
	otherTopod := serviceaccount.ServiceAccountInfo{Name: "topod", Namespace: "other", UID: "u", PodName: "p",
		PodUID: "pu", NodeName: "worker-a"}
	all = append(all,
		testCase{"UPDATE with a legacy token (no extra at all)", request{op: admission.Update, name: "worker-a",
			user: (&serviceaccount.ServiceAccountInfo{Name: "topod", Namespace: "topod-system", UID: "u"}).UserInfo()}, noNode},
		testCase{"CREATE with an empty node-name claim", request{op: admission.Create, name: "worker-a", user: emptyClaim}, noNode},
		testCase{"UPDATE another node's object as an administrator",
			request{op: admission.Update, name: "worker-b", user: &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}}}, ""},
		testCase{"DELETE another node's object as the scheduler",
			request{op: admission.Delete, name: "worker-b", user: &user.DefaultInfo{Name: user.KubeScheduler}}, ""},
		testCase{"CREATE another node's object as a service account named topod in another namespace",
			request{op: admission.Create, name: "worker-b", user: otherTopod.UserInfo()}, ""},
		testCase{"CREATE a pod named worker-b as topod on worker-a (not a NodeResourceTopology)",
			request{op: admission.Create, name: "worker-b", ns: "default", gvk: podGVK, gvr: podGVR, user: topodOn("worker-a")}, ""},
	)
	return all
}

// run checks every case and returns how many failed.
func run(c *checker, quiet bool) int {
	failed := 0
	for _, tc := range cases() {
		err := c.validate(tc.req)
		verdict, problem := "allowed", ""
		if err != nil {
			verdict = "denied: " + err.Error()
		}
		switch {
		case tc.denied == "" && err != nil:
			problem = "want allowed"
		case tc.denied != "" && err == nil:
			problem = "want denied with " + fmt.Sprintf("%q", tc.denied)
		case tc.denied != "":
			var status apierrors.APIStatus
			if !errors.As(err, &status) || status.Status().Code != 403 ||
				status.Status().Reason != metav1.StatusReasonForbidden {
				problem = "want a 403 Forbidden status"
			} else if !strings.Contains(err.Error(), tc.denied) {
				problem = fmt.Sprintf("want the message to contain %q", tc.denied)
			}
		}
		if problem != "" {
			failed++
		}
		if !quiet {
			mark := "ok  "
			if problem != "" {
				mark = "FAIL"
			}
			fmt.Printf("%s %-80s %s", mark, tc.name, verdict)
			if problem != "" {
				fmt.Printf("  (%s)", problem)
			}
			fmt.Println()
		}
	}
	return failed
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: vap-check DEPLOY_DIR")
		os.Exit(2)
	}
	// The plugin's informers log through klog; the cases' lines are the output.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	_ = klogFlags.Set("logtostderr", "false")
	klog.SetOutput(io.Discard)
	policy, binding, err := loadManifests(filepath.Join(os.Args[1], policyFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, "vap-check:", err)
		os.Exit(2)
	}
	c, err := newChecker(policy, binding)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vap-check:", err)
		os.Exit(2)
	}
	failed := run(c, false)
	c.close()
	fmt.Printf("vap-check: %d/%d cases as expected with deploy/%s\n", len(cases())-failed, len(cases()), policyFile)

	// The cases must be able to catch a wrong policy: the same cases against a policy whose
	// validation always passes, and one whose binding only warns, must fail.
	broken := policy.DeepCopy()
	for i := range broken.Spec.Validations {
		broken.Spec.Validations[i].Expression = "true"
	}
	warnOnly := binding.DeepCopy()
	warnOnly.Spec.ValidationActions = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}
	for _, mutant := range []struct {
		what    string
		policy  *admissionregistrationv1.ValidatingAdmissionPolicy
		binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	}{{"a policy that allows everything", broken, binding}, {"a binding that only warns", policy, warnOnly}} {
		mc, err := newChecker(mutant.policy, mutant.binding)
		if err != nil {
			fmt.Fprintln(os.Stderr, "vap-check:", err)
			os.Exit(2)
		}
		caught := run(mc, true)
		mc.close()
		fmt.Printf("vap-check: %s fails %d cases\n", mutant.what, caught)
		if caught == 0 {
			fmt.Printf("FAIL the cases do not notice %s\n", mutant.what)
			failed++
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}
