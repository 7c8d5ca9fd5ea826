// Command argocd-health evaluates resource health customizations with Argo CD's own Lua VM
// (github.com/argoproj/argo-cd/v3/util/lua), the way Argo CD's tests do: for every health.lua
// under the given resource_customizations directory, each case of its health_test.yaml. It
// prints one JSON array of {script, inputPath, expected, actual, error}; comparing is the caller's.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/argoproj/argo-cd/gitops-engine/pkg/health"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

type testFile struct {
	Tests []struct {
		InputPath    string              `json:"inputPath"`
		HealthStatus health.HealthStatus `json:"healthStatus"`
	} `json:"tests"`
}

type result struct {
	Script    string               `json:"script"`
	InputPath string               `json:"inputPath"`
	Expected  health.HealthStatus  `json:"expected"`
	Actual    *health.HealthStatus `json:"actual,omitempty"`
	Error     string               `json:"error,omitempty"`
}

func evaluate(script []byte, input string) (*health.HealthStatus, error) {
	raw, err := os.ReadFile(input)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	// As Argo CD runs it in production: without the open libraries.
	return lua.VM{}.ExecuteHealthLua(&unstructured.Unstructured{Object: obj}, string(script))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health RESOURCE_CUSTOMIZATIONS_DIR")
		os.Exit(2)
	}
	results := []result{}
	err := filepath.Walk(os.Args[1], func(path string, info os.FileInfo, err error) error {
		if err != nil || info.Name() != "health.lua" {
			return err
		}
		dir := filepath.Dir(path)
		script, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
		if err != nil {
			return err
		}
		var tests testFile
		if err := yaml.Unmarshal(raw, &tests); err != nil {
			return err
		}
		for _, test := range tests.Tests {
			r := result{Script: path, InputPath: test.InputPath, Expected: test.HealthStatus}
			r.Actual, err = evaluate(script, filepath.Join(dir, test.InputPath))
			if err != nil {
				r.Error = err.Error()
			}
			results = append(results, r)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(results)
	fmt.Println(string(out))
}
