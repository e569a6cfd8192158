// kstatus reads one Kubernetes object as JSON on stdin and prints what
// sigs.k8s.io/cli-utils' kstatus computes for it: the status Flux, kpt and
// helm --wait act on (InProgress, Current, Failed, ...) and its message, as
// one JSON object on stdout. The e2e tests run it against real objects so the
// operator's conditions are checked by kstatus itself, not by a re-implementation.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	// UnmarshalJSON, not encoding/json into a map: kstatus reads
	// metadata.generation and status.observedGeneration as int64, and a plain
	// map would hold float64s that it refuses.
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		fail("stdin is not one Kubernetes object as JSON: %v", err)
	}
	res, err := status.Compute(obj)
	if err != nil {
		fail("kstatus: %v", err)
	}
	out, _ := json.Marshal(verdict{Status: res.Status.String(), Message: res.Message})
	fmt.Println(string(out))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kstatus: "+format+"\n", args...)
	os.Exit(2)
}
