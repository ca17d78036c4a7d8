{{/*
Rules that span several values (values.schema.json checks each value alone). Every broken rule is collected
and reported in one failure, so a user fixes them all in one round.
*/}}
{{- define "mcp-session-gateway.validateValues" -}}
{{- $v := .Values }}
{{- $problems := list }}
{{- $r := $v.redis }}
{{- $shared := include "mcp-session-gateway.sharedStore" . }}
{{- if and (not $shared) (or (gt (int $v.replicaCount) 1) $v.autoscaling.enabled) }}
{{- $problems = append $problems "replicaCount > 1 (or autoscaling.enabled) needs a shared session store: set redis.internal.enabled, redis.url, or redis.existingSecret with redis.existingSecretUrlKey (each replica would otherwise know only its own sessions)" }}
{{- end }}
{{- if and (not $shared) (gt (int $v.gateway.workers) 1) }}
{{- $problems = append $problems "gateway.workers > 1 needs a shared session store: set redis.internal.enabled, redis.url, or redis.existingSecret with redis.existingSecretUrlKey (the gateway refuses to start: each worker would otherwise know only its own sessions)" }}
{{- end }}
{{- if and $r.internal.enabled (or $r.url $r.existingSecret) }}
{{- $problems = append $problems "redis.internal.enabled and an external Redis (redis.url / redis.existingSecret) exclude each other: pick one" }}
{{- end }}
{{- if and $r.existingSecretUrlKey $r.existingSecretPasswordKey }}
{{- $problems = append $problems "redis.existingSecretUrlKey and redis.existingSecretPasswordKey exclude each other: the URL key holds the password already" }}
{{- end }}
{{- if and (or $r.existingSecretUrlKey $r.existingSecretPasswordKey) (not $r.existingSecret) }}
{{- $problems = append $problems "redis.existingSecretUrlKey / redis.existingSecretPasswordKey name a key of redis.existingSecret, which is empty" }}
{{- end }}
{{- if and $r.existingSecret (not (or $r.existingSecretUrlKey $r.existingSecretPasswordKey)) }}
{{- $problems = append $problems "redis.existingSecret is set but neither redis.existingSecretUrlKey nor redis.existingSecretPasswordKey says which key to read" }}
{{- end }}
{{- if and $r.existingSecretUrlKey $r.url }}
{{- $problems = append $problems "redis.url must stay empty when redis.existingSecretUrlKey provides the whole URL" }}
{{- end }}
{{- if and $r.existingSecretPasswordKey (not $r.url) }}
{{- $problems = append $problems "redis.existingSecretPasswordKey needs redis.url (the password is spliced into it)" }}
{{- end }}
{{- if and (eq $r.mode "sentinel") (empty $r.sentinels) }}
{{- $problems = append $problems "redis.mode sentinel needs redis.sentinels (host:port of each sentinel)" }}
{{- end }}
{{- if and (ne $r.mode "sentinel") (not (empty $r.sentinels)) }}
{{- $problems = append $problems (printf "redis.sentinels applies to redis.mode sentinel, not %s" $r.mode) }}
{{- end }}
{{- if and (ne $r.mode "standalone") $r.internal.enabled }}
{{- $problems = append $problems (printf "redis.mode %s is for an external Redis: set redis.internal.enabled=false and redis.url (or the URL in redis.existingSecret)" $r.mode) }}
{{- end }}
{{- $d := $v.discovery }}
{{- if and (eq $d.mode "static") (empty $d.static.backends) }}
{{- $problems = append $problems "discovery.mode static needs discovery.static.backends" }}
{{- end }}
{{- if and (eq $d.mode "dns") (not $d.dns.name) }}
{{- $problems = append $problems "discovery.mode dns needs discovery.dns.name" }}
{{- end }}
{{- if and (ne $d.mode "static") (not (empty $d.static.backends)) }}
{{- $problems = append $problems (printf "discovery.static.backends applies to discovery.mode static, not %s" $d.mode) }}
{{- end }}
{{- if and (ne $d.mode "dns") $d.dns.name }}
{{- $problems = append $problems (printf "discovery.dns.name applies to discovery.mode dns, not %s" $d.mode) }}
{{- end }}
{{- if and (ne $d.mode "kubernetes") (or $d.kubernetes.service $d.kubernetes.port) }}
{{- $problems = append $problems (printf "discovery.kubernetes.* applies to discovery.mode kubernetes, not %s" $d.mode) }}
{{- end }}
{{- if and (eq $d.mode "kubernetes") (not $v.serviceAccount.create) (not $v.serviceAccount.name) }}
{{- $problems = append $problems "discovery.mode kubernetes needs a ServiceAccount: serviceAccount.create, or serviceAccount.name of an existing one" }}
{{- end }}
{{- $a := $v.auth }}
{{- $secretKeys := list $a.clientSecretKey $a.apiKeysKey $a.identityJwtKeyKey | compact }}
{{- if eq $a.mode "none" }}
{{- range $k := list "resourceUrl" "issuer" "jwksUrl" "methodScopes" "introspectionUrl" "clientId" "clientSecretKey" "apiKeysKey" }}
{{- if index $a $k }}
{{- $problems = append $problems (printf "auth.%s applies with auth.mode jwt, introspection or api-key, not none" $k) }}
{{- end }}
{{- end }}
{{- if or $a.audiences $a.requiredScopes $a.sessionRecoveryIdentity }}
{{- $problems = append $problems "auth.audiences, auth.requiredScopes and auth.sessionRecoveryIdentity apply with an auth.mode other than none" }}
{{- end }}
{{- else }}
{{- if not $a.resourceUrl }}
{{- $problems = append $problems (printf "auth.mode %s needs auth.resourceUrl (the public URL of the MCP endpoint)" $a.mode) }}
{{- end }}
{{- if and (eq $a.mode "jwt") (not (or $a.issuer $a.jwksUrl)) }}
{{- $problems = append $problems "auth.mode jwt needs auth.issuer or auth.jwksUrl" }}
{{- end }}
{{- if and (eq $a.mode "introspection") (not (and $a.issuer $a.introspectionUrl $a.clientId $a.clientSecretKey)) }}
{{- $problems = append $problems "auth.mode introspection needs auth.issuer, auth.introspectionUrl, auth.clientId and auth.clientSecretKey" }}
{{- end }}
{{- if and (eq $a.mode "api-key") (not $a.apiKeysKey) }}
{{- $problems = append $problems "auth.mode api-key needs auth.apiKeysKey (a key of auth.existingSecret with the API keys)" }}
{{- end }}
{{- if and (ne $a.mode "introspection") (or $a.introspectionUrl $a.clientId $a.clientSecretKey) }}
{{- $problems = append $problems (printf "auth.introspectionUrl, auth.clientId and auth.clientSecretKey apply to auth.mode introspection, not %s" $a.mode) }}
{{- end }}
{{- if and (ne $a.mode "api-key") $a.apiKeysKey }}
{{- $problems = append $problems (printf "auth.apiKeysKey applies to auth.mode api-key, not %s" $a.mode) }}
{{- end }}
{{- end }}
{{- if and $secretKeys (not $a.existingSecret) }}
{{- $problems = append $problems "auth.clientSecretKey / auth.apiKeysKey / auth.identityJwtKeyKey name keys of auth.existingSecret, which is empty" }}
{{- end }}
{{- if and $a.existingSecret (not $secretKeys) }}
{{- $problems = append $problems "auth.existingSecret is set but no auth.*Key says which of its keys to mount" }}
{{- end }}
{{- $g := $v.gateway }}
{{- if eq (int $g.port) (int $g.adminPort) }}
{{- $problems = append $problems "gateway.port and gateway.adminPort must differ (the admin port never serves MCP)" }}
{{- end }}
{{- if eq (int $v.service.port) (int $v.service.adminPort) }}
{{- $problems = append $problems "service.port and service.adminPort must differ" }}
{{- end }}
{{- $needed := add $g.drainDelaySeconds $g.shutdownTimeoutSeconds 2 }}
{{- if lt (int $v.terminationGracePeriodSeconds) (int $needed) }}
{{- $problems = append $problems (printf "terminationGracePeriodSeconds (%d) must be at least gateway.drainDelaySeconds + gateway.shutdownTimeoutSeconds + 2 (%d), or Kubernetes kills the gateway mid-drain" (int $v.terminationGracePeriodSeconds) (int $needed)) }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- $problems = append $problems "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if $problems }}
{{- fail (printf "\n\ninvalid values for mcp-session-gateway:\n  - %s\n" (join "\n  - " $problems)) }}
{{- end }}
{{- end }}
