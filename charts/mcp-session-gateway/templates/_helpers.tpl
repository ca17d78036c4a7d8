{{/* Names, labels and the values derived from several others. */}}

{{- define "mcp-session-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resource name prefix: release name, plus the chart name unless the release name has it already. */}}
{{- define "mcp-session-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mcp-session-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; pass (dict "ctx" $ "component" "gateway"). */}}
{{- define "mcp-session-gateway.labels" -}}
helm.sh/chart: {{ include "mcp-session-gateway.chart" .ctx }}
{{ include "mcp-session-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: mcp-session-gateway
{{- end }}

{{/* The labels selectors match on; never change them in an upgrade (Deployment selectors are immutable). */}}
{{- define "mcp-session-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-session-gateway.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "mcp-session-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-session-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest; pass (dict "image" .Values.image "ctx" $). */}}
{{- define "mcp-session-gateway.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{- define "mcp-session-gateway.demoName" -}}
{{- printf "%s-demo" (include "mcp-session-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-session-gateway.redisName" -}}
{{- printf "%s-redis" (include "mcp-session-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The followed Service as namespace/name (see discovery.kubernetes.service in values.yaml). */}}
{{- define "mcp-session-gateway.k8sService" -}}
{{- $svc := .Values.discovery.kubernetes.service }}
{{- if not $svc }}
{{- $svc = ternary (include "mcp-session-gateway.demoName" .) "mcp-server" .Values.demo.enabled }}
{{- end }}
{{- if contains "/" $svc }}{{ $svc }}{{ else }}{{ printf "%s/%s" .Release.Namespace $svc }}{{ end }}
{{- end }}

{{/* The namespace of the followed Service: where the Role must be. */}}
{{- define "mcp-session-gateway.k8sServiceNamespace" -}}
{{- include "mcp-session-gateway.k8sService" . | splitList "/" | first }}
{{- end }}

{{- define "mcp-session-gateway.kubernetesDiscovery" -}}
{{- if eq .Values.discovery.mode "kubernetes" }}true{{ end }}
{{- end }}

{{/* Whether any shared session store is configured. */}}
{{- define "mcp-session-gateway.sharedStore" -}}
{{- if or .Values.redis.internal.enabled .Values.redis.url .Values.redis.existingSecretUrlKey }}true{{ end }}
{{- end }}

{{/*
The gateway's REDIS_URL (and the REDIS_PASSWORD it refers to). Kubernetes expands $(REDIS_PASSWORD) in a
later variable's value, so the password stays in its Secret and never in a ConfigMap or the pod spec.
*/}}
{{- define "mcp-session-gateway.redisEnv" -}}
{{- $r := .Values.redis }}
{{- if $r.internal.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379" (include "mcp-session-gateway.redisName" .) | quote }}
{{- else if $r.existingSecretUrlKey }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.existingSecretUrlKey }}
{{- else if $r.url }}
{{- if $r.existingSecretPasswordKey }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.existingSecretPasswordKey }}
{{- $u := urlParse $r.url }}
- name: REDIS_URL
  value: {{ printf "%s://%s:$(REDIS_PASSWORD)@%s%s%s" $u.scheme (default "" $u.userinfo) $u.host $u.path (ternary (printf "?%s" $u.query) "" (ne $u.query "")) | quote }}
{{- else }}
- name: REDIS_URL
  value: {{ $r.url | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
WORKERS (--workers): gateway.workers when set; else 1 without a shared store (the memory store is one per
process); else the container's CPU limit rounded up ("500m" -> 1, "1.5" -> 2, 2 -> 2), or 1 without a CPU
limit (one process, not one per CPU of whatever node the pod lands on).
*/}}
{{- define "mcp-session-gateway.workers" -}}
{{- if .Values.gateway.workers -}}
{{- .Values.gateway.workers | int -}}
{{- else if not (include "mcp-session-gateway.sharedStore" .) -}}
1
{{- else -}}
{{- $cpu := toString (dig "limits" "cpu" "" (.Values.resources | default dict)) -}}
{{- if eq $cpu "" -}}
1
{{- else if hasSuffix "m" $cpu -}}
{{- max 1 (div (add (atoi (trimSuffix "m" $cpu)) 999) 1000) -}}
{{- else -}}
{{- max 1 (ceil (float64 $cpu) | int) -}}
{{- end -}}
{{- end -}}
{{- end -}}
