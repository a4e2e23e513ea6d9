{{/* Chart name, overridable with nameOverride. */}}
{{- define "logbridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Resource name prefix: fullnameOverride, else RELEASE-NAME (or RELEASE when it already contains
the chart name). 52 characters at most: the StatefulSet controller appends "-<ordinal>" to pod
names and the pods' controller-revision-hash label must fit in 63.
*/}}
{{- define "logbridge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "logbridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "logbridge.labels" -}}
helm.sh/chart: {{ include "logbridge.chart" . }}
{{ include "logbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: logbridge
{{- end }}

{{/* Selector labels: immutable on a StatefulSet, so nothing here may change between releases. */}}
{{- define "logbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "logbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "logbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "logbridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "logbridge.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Where the adminToken Secret is mounted; the config's admin.token reads <dir>/<key>. */}}
{{- define "logbridge.adminTokenDir" -}}
/run/secrets/logbridge-admin
{{- end }}

{{/* Where the spool volume is mounted; rendered as the config's spool.path. */}}
{{- define "logbridge.spoolPath" -}}
/var/lib/logbridge
{{- end }}

{{/*
The logbridge configuration: .Values.config with the keys the pod depends on forced from
dedicated values (spool.path on the volume, admin.listen reachable by probes and Prometheus,
admin.token from the adminToken Secret, shutdown_timeout below the grace period).
*/}}
{{- define "logbridge.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- $spool := get $cfg "spool" | default dict }}
{{- $_ := set $spool "path" (include "logbridge.spoolPath" .) }}
{{- $_ = set $cfg "spool" $spool }}
{{- $admin := get $cfg "admin" | default dict }}
{{- $_ = set $admin "listen" (printf "0.0.0.0:%d" (int .Values.adminPort)) }}
{{- if .Values.adminToken.secretName }}
{{- $_ = set $admin "token" (printf "${file:%s/%s}" (include "logbridge.adminTokenDir" .) .Values.adminToken.key) }}
{{- end }}
{{- $_ = set $cfg "admin" $admin }}
{{- $_ = set $cfg "shutdown_timeout" (printf "%ds" (int .Values.shutdownTimeoutSeconds)) }}
{{- if .Values.azureWorkloadIdentity.enabled }}
{{- $entra := $cfg.source.kafka.entra_id }}
{{- $_ = set $entra "workload_identity" true }}
{{- if not (hasKey $entra "client_id") }}{{ $_ = set $entra "client_id" .Values.azureWorkloadIdentity.clientId }}{{ end }}
{{- if and .Values.azureWorkloadIdentity.tenantId (not (hasKey $entra "tenant_id")) }}{{ $_ = set $entra "tenant_id" .Values.azureWorkloadIdentity.tenantId }}{{ end }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* Checks that the schema cannot express; fail with a message saying what to change. */}}
{{- define "logbridge.validate" -}}
{{- $cfg := .Values.config | default dict }}
{{- if not (and (kindIs "map" $cfg) $cfg.source $cfg.sinks) }}
{{- fail "config.source and config.sinks must be set: the chart ships no default source or sink (see values.yaml and the complete examples in ci/*.yaml)." }}
{{- end }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- $drain := int .Values.shutdownTimeoutSeconds }}
{{- if le $grace (add $drain 5 | int) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than shutdownTimeoutSeconds + 5 (%d): Kubernetes kills the pod %ds after SIGTERM, which would cut logbridge's drain short. Raise terminationGracePeriodSeconds or lower shutdownTimeoutSeconds." $grace (add $drain 5) $grace) }}
{{- end }}
{{- if and (kindIs "map" .Values.config) (hasKey .Values.config "shutdown_timeout") }}
{{- fail "config.shutdown_timeout is set by the chart: use the value shutdownTimeoutSeconds instead (it is checked against terminationGracePeriodSeconds)." }}
{{- end }}
{{- if and .Values.adminToken.secretName (kindIs "map" .Values.config) (kindIs "map" .Values.config.admin) (hasKey .Values.config.admin "token") }}
{{- fail "config.admin.token is set by the chart from adminToken.secretName: remove config.admin.token (or leave adminToken.secretName empty and mount the token yourself)." }}
{{- end }}
{{- if .Values.azureWorkloadIdentity.enabled }}
{{- if not .Values.azureWorkloadIdentity.clientId }}
{{- fail "azureWorkloadIdentity.clientId is required when azureWorkloadIdentity.enabled: the client id of the managed identity (or application) with a federated credential for this ServiceAccount." }}
{{- end }}
{{- $kafka := ((($cfg.source | default dict).kafka) | default dict) }}
{{- if not (and (kindIs "map" $kafka.entra_id) $kafka.entra_id.namespace) }}
{{- fail "azureWorkloadIdentity.enabled needs config.source.kafka.entra_id.namespace (the Event Hubs namespace) instead of a connection string." }}
{{- end }}
{{- end }}
{{- $parts := int .Values.partitionCount }}
{{- if and (gt $parts 0) (gt (int .Values.replicas) $parts) }}
{{- fail (printf "replicas (%d) is above partitionCount (%d): the extra consumer-group members would get no partition, stay unready and do nothing. Lower replicas." (int .Values.replicas) $parts) }}
{{- end }}
{{- end }}

{{/* Pod affinity: .Values.affinity plus the podAntiAffinity preset unless affinity has its own. */}}
{{- define "logbridge.affinity" -}}
{{- $affinity := deepCopy (.Values.affinity | default dict) }}
{{- if and .Values.podAntiAffinity (not (hasKey $affinity "podAntiAffinity")) }}
{{- $term := dict "topologyKey" .Values.podAntiAffinityTopologyKey "labelSelector" (dict "matchLabels" (include "logbridge.selectorLabels" . | fromYaml)) }}
{{- if eq .Values.podAntiAffinity "hard" }}
{{- $_ := set $affinity "podAntiAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list $term)) }}
{{- else }}
{{- $_ := set $affinity "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list (dict "weight" 100 "podAffinityTerm" $term))) }}
{{- end }}
{{- end }}
{{- if $affinity }}
{{- toYaml $affinity }}
{{- end }}
{{- end }}
