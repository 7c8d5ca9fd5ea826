{{/* The name in app.kubernetes.io/name: nameOverride, else agentrunbook-operator. */}}
{{- define "agentrunbook.name" -}}
{{- default "agentrunbook-operator" .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
What the release's objects are named after: fullnameOverride; else the release name when it
holds "agentrunbook" (or nameOverride); else <release>-agentrunbook. Objects add a suffix of at
most 20 characters (-operator-dashboard), so it stays within 40.
*/}}
{{- define "agentrunbook.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $base := default "agentrunbook" .Values.nameOverride }}
{{- if contains $base .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $base | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "agentrunbook.labels" -}}
app.kubernetes.io/name: {{ include "agentrunbook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The same labels as one JSON object, for the templates generated from src/. */}}
{{- define "agentrunbook.labelsJson" -}}
{{- include "agentrunbook.labels" . | fromYaml | toJson }}
{{- end }}

{{/* What selects the operator's Pods: this release's only. */}}
{{- define "agentrunbook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentrunbook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "agentrunbook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-operator" (include "agentrunbook.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: [registry/]repository, then @digest or :tag (the chart's appVersion by
default). global.imageRegistry, when set, replaces every image's registry (a mirror).
*/}}
{{- define "agentrunbook.imageRef" -}}
{{- $registry := .global.imageRegistry | default .image.registry }}
{{- $repository := ternary (printf "%s/%s" $registry .image.repository) .image.repository (not (empty $registry)) }}
{{- if .image.digest }}
{{- printf "%s@%s" $repository .image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.image.tag | default .appVersion | toString) }}
{{- end }}
{{- end }}

{{- define "agentrunbook.image" -}}
{{- include "agentrunbook.imageRef" (dict "image" .Values.image "global" (.Values.global | default dict) "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* imagePullSecrets: global.imagePullSecrets and the chart's own. */}}
{{- define "agentrunbook.imagePullSecrets" -}}
{{- $secrets := concat ((.Values.global | default dict).imagePullSecrets | default list) .Values.imagePullSecrets }}
{{- with $secrets }}
imagePullSecrets:
  {{- range . }}
  - {{ if kindIs "string" . }}name: {{ . }}{{ else }}{{ toYaml . }}{{ end }}
  {{- end }}
{{- end }}
{{- end }}

{{/* The Secret that holds the webhook's certificates. */}}
{{- define "agentrunbook.webhookSecret" -}}
{{ include "agentrunbook.fullname" . }}-webhook-tls
{{- end }}

{{/*
Which namespaces' objects the webhooks see: webhook.namespaceSelector, else the watched
namespaces only, else all.
*/}}
{{- define "agentrunbook.webhookNamespaceSelector" -}}
{{- if .Values.webhook.namespaceSelector }}
{{- toJson .Values.webhook.namespaceSelector }}
{{- else if .Values.watchNamespaces }}
{{- toJson (dict "matchExpressions" (list (dict "key" "kubernetes.io/metadata.name" "operator" "In" "values" .Values.watchNamespaces))) }}
{{- else }}
{{- "{}" }}
{{- end }}
{{- end }}

{{/* Kept on uninstall (crds.keep), so that the runbooks, templates and agents survive it. */}}
{{- define "agentrunbook.crdAnnotations" -}}
{{- if .Values.crds.keep }}
{{- toJson (dict "helm.sh/resource-policy" "keep") }}
{{- else }}
{{- "{}" }}
{{- end }}
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

{{/* One scrape endpoint of a ServiceMonitor or PodMonitor, from its values. */}}
{{- define "agentrunbook.scrapeEndpoint" -}}
path: /metrics
{{- with .interval }}
interval: {{ . }}
{{- end }}
{{- with .scrapeTimeout }}
scrapeTimeout: {{ . }}
{{- end }}
{{- with .relabelings }}
relabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
