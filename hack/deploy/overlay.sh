#!/usr/bin/env bash
# Writes a kustomize overlay of config/default whose only change is the image:
# IMG (name:tag or name@sha256:digest) replaces ghcr.io/example/systemd-workload-operator
# in the controller's Deployment and the agent's DaemonSet, through kustomize's
# images transformer rather than by editing YAML.
#   IMG=registry.example/sdw:dev hack/deploy/overlay.sh DIR && kubectl apply -k DIR
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: IMG=name:tag hack/deploy/overlay.sh DIR}
IMG=${IMG:?IMG is not set}
mkdir -p "$dir"
# The path of config/default relative to DIR (kustomize wants a relative base).
base=$(realpath --relative-to="$(cd "$dir" && pwd)" "$repo/config/default")
name=$IMG tag= digest=
if [[ $IMG == *@* ]]; then name=${IMG%@*}; digest=${IMG#*@}
elif [[ ${IMG##*/} == *:* ]]; then name=${IMG%:*}; tag=${IMG##*:}
else tag=latest
fi
{
  echo "# Written by hack/deploy/overlay.sh for IMG=$IMG; not committed."
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "- $base"
  echo "images:"
  echo "- name: ghcr.io/example/systemd-workload-operator"
  echo "  newName: \"$name\""
  if [ -n "$digest" ]; then echo "  digest: \"$digest\""; else echo "  newTag: \"$tag\""; fi
} > "$dir/kustomization.yaml"
