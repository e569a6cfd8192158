{{/*
Names and labels of every object. The object names are fixed, as in config/:
the admission policies and RBAC name the agent's service account, and the
cluster-scoped objects allow one installation per cluster.
*/}}

{{/* The chart's name and version, as the helm.sh/chart label wants them. */}}
{{- define "sdw.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object. Call with (dict "ctx" $ "component" "agent"); the
component is left out for objects shared by both processes.
*/}}
{{- define "sdw.labels" -}}
{{ include "sdw.selectorLabels" . }}
app.kubernetes.io/part-of: systemd-workload-operator
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ include "sdw.chart" .ctx }}
{{- end }}

{{/*
Pod selector labels: the same as config/'s, so Services, dashboards and
`kubectl get -l` work the same whichever way the operator was installed.
*/}}
{{- define "sdw.selectorLabels" -}}
app.kubernetes.io/name: systemd-workload-operator
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* The one image of both processes; the tag defaults to the chart's appVersion. */}}
{{- define "sdw.image" -}}
{{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
