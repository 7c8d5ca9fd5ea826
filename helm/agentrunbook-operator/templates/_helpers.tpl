{{/* Labels on every object of the release. */}}
{{- define "agentrunbook.labels" -}}
app.kubernetes.io/name: agentrunbook-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* What selects the operator's Pods. */}}
{{- define "agentrunbook.selectorLabels" -}}
app.kubernetes.io/name: agentrunbook-operator
{{- end }}

{{- define "agentrunbook.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The Secret that holds the webhook's certificates. */}}
{{- define "agentrunbook.webhookSecret" -}}
agentrunbook-webhook-tls
{{- end }}

{{/* Labels of the console's objects: a name of its own, so no operator selector picks its Pods. */}}
{{- define "agentrunbook.consoleLabels" -}}
app.kubernetes.io/name: agentrunbook-console
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: console
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
