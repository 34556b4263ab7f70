{{/* Names and labels --------------------------------------------------------------------- */}}

{{- define "kq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kq.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "api") */}}
{{- define "kq.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kq.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "kq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kq.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kq.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kq.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kq.image" -}}
{{- $image := ternary .root.Values.cudaImage .root.Values.image (default false .cuda) -}}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion $image.tag) -}}
{{- end -}}

{{- define "kq.imagePullPolicy" -}}
{{- (ternary .root.Values.cudaImage .root.Values.image (default false .cuda)).pullPolicy -}}
{{- end -}}

{{/* Secrets ---------------------------------------------------------------------------------
Each secret value is given inline (the chart's Secret holds it under the variable's name) or
lives in the operator's Secret (existingSecret, under existingSecretKey). */}}

{{/* A secretKeyRef for one value; call with (dict "root" $ "from" .Values.redis "inline" .Values.redis.url "key" "KQ_REDIS_URL") */}}
{{- define "kq.secretRef" -}}
secretKeyRef:
  name: {{ default (include "kq.fullname" .root) .from.existingSecret }}
  key: {{ ternary .from.existingSecretKey .key (not (empty .from.existingSecret)) }}
{{- end -}}

{{/* The Redis password in redis.url, for KEDA ("" when none or when the URL is not inline) */}}
{{- define "kq.redisUrlPassword" -}}
{{- if and .Values.redis.url (not .Values.redis.existingSecret) -}}
{{- $userinfo := (urlParse .Values.redis.url).userinfo -}}
{{- if contains ":" $userinfo -}}
{{- index (splitList ":" $userinfo) 1 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kq.redisUrlUser" -}}
{{- if and .Values.redis.url (not .Values.redis.existingSecret) -}}
{{- $userinfo := (urlParse .Values.redis.url).userinfo -}}
{{- if $userinfo -}}
{{- index (splitList ":" $userinfo) 0 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Environment ------------------------------------------------------------------------------ */}}

{{/* Queues a job may name besides the default: every other enabled pool's (KQ_QUEUES) */}}
{{- define "kq.otherQueues" -}}
{{- $queues := list -}}
{{- range $name, $pool := .Values.workerPools -}}
{{- if and $pool.enabled (ne $pool.queue $.Values.defaultQueue) -}}
{{- $queues = append $queues $pool.queue -}}
{{- end -}}
{{- end -}}
{{- $queues | uniq | sortAlpha | join "," -}}
{{- end -}}

{{/* The processes a pool runs at its largest, plus KEDA's waiting messages per replica */}}
{{- define "kq.poolInFlight" -}}
{{- $pool := .pool -}}
{{- if .root.Values.keda.enabled -}}
{{- mul (int $pool.keda.maxReplicaCount) (add (int $pool.concurrency) (int .root.Values.keda.listLengthPerReplica)) -}}
{{- else -}}
{{- mul (int $pool.replicas) (int $pool.concurrency) -}}
{{- end -}}
{{- end -}}

{{- define "kq.chunksInFlightPerJob" -}}
{{- if .Values.chunksInFlightPerJob -}}
{{- .Values.chunksInFlightPerJob -}}
{{- else -}}
{{- $largest := 1 -}}
{{- range $name, $pool := .Values.workerPools -}}
{{- if $pool.enabled -}}
{{- $largest = max $largest (int (include "kq.poolInFlight" (dict "root" $ "pool" $pool))) -}}
{{- end -}}
{{- end -}}
{{- $largest -}}
{{- end -}}
{{- end -}}

{{/* A worker's grace period on SIGTERM: above the longest task time limit (warm shutdown) */}}
{{- define "kq.workerGraceSeconds" -}}
{{- $longest := max (int .root.Values.taskTimeLimitSeconds) (int .root.Values.assemblyTimeLimitSeconds) -}}
{{- if .pool.terminationGracePeriodSeconds -}}
{{- if le (int .pool.terminationGracePeriodSeconds) $longest -}}
{{- fail (printf "workerPools.%s.terminationGracePeriodSeconds (%v) must exceed the longest task time limit (%d s): Celery's warm shutdown waits for the task in hand" .name .pool.terminationGracePeriodSeconds $longest) -}}
{{- end -}}
{{- int .pool.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add $longest (int .root.Values.workerShutdownMarginSeconds) -}}
{{- end -}}
{{- end -}}

{{/* The env of every kokoro-queue container: its queue, the shared ConfigMap's settings (by
envFrom) and the secrets the API, workers and Flower all read. Call with (dict "root" $ "queue" Q) */}}
{{- define "kq.commonEnv" -}}
{{- $v := .root.Values -}}
- name: KQ_QUEUE
  value: {{ .queue | quote }}
- name: KQ_REDIS_URL
  valueFrom:
    {{- include "kq.secretRef" (dict "root" .root "from" $v.redis "key" "KQ_REDIS_URL") | nindent 4 }}
- name: KQ_DATABASE_URL
  valueFrom:
    {{- include "kq.secretRef" (dict "root" .root "from" $v.database "key" "KQ_DATABASE_URL") | nindent 4 }}
{{- if or $v.webhook.secret $v.webhook.existingSecret }}
- name: KQ_WEBHOOK_SECRET
  valueFrom:
    {{- include "kq.secretRef" (dict "root" .root "from" $v.webhook "key" "KQ_WEBHOOK_SECRET") | nindent 4 }}
{{- end }}
{{- if or $v.s3.existingSecret (and $v.s3.accessKeyId $v.s3.secretAccessKey) }}
{{- $s3secret := default (include "kq.fullname" .root) $v.s3.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $s3secret }}
      key: AWS_ACCESS_KEY_ID
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3secret }}
      key: AWS_SECRET_ACCESS_KEY
{{- end }}
{{- end -}}

{{- define "kq.envFrom" -}}
- configMapRef:
    name: {{ include "kq.fullname" . }}
{{- end -}}

{{/* Pod annotations that roll the pods when the settings or the chart's Secret change */}}
{{- define "kq.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* /tmp and /data: the only writable places (the root filesystem is read-only). /data is the
shared claim when audio is on disk, else scratch of the pod's own. Call with (dict "root" $ "tmpSize" S "dataSize" S "shared" bool) */}}
{{- define "kq.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .tmpSize }}
- name: data
{{- if and .shared (not .root.Values.s3.url) }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-data" (include "kq.fullname" .root)) .root.Values.persistence.existingClaim }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .dataSize }}
{{- end }}
{{- end -}}

{{- define "kq.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- end -}}

{{/* Values that must be given, with what to set; rendered once, by configmap.yaml */}}
{{- define "kq.validate" -}}
{{- $v := .Values -}}
{{- if not (or $v.redis.url $v.redis.existingSecret) -}}
{{- fail "set redis.url (redis://:PASSWORD@HOST:6379/0) or redis.existingSecret: the broker of the API and the workers" -}}
{{- end -}}
{{- if not (or $v.database.url $v.database.existingSecret) -}}
{{- fail "set database.url (postgresql+psycopg://USER:PASSWORD@HOST/DB) or database.existingSecret: production needs PostgreSQL" -}}
{{- end -}}
{{- if not (or $v.auth.apiKeys $v.auth.existingSecret $v.auth.allowUnauthenticated) -}}
{{- fail "set auth.apiKeys (name=key,...) or auth.existingSecret: the API listens on 0.0.0.0 in its pod, which kokoro-queue refuses without keys; auth.allowUnauthenticated=true only when something in front authenticates every client" -}}
{{- end -}}
{{- if and $v.flower.enabled (not (or $v.flower.password $v.flower.existingSecret)) -}}
{{- fail "set flower.password or flower.existingSecret (Flower always asks for basic auth), or flower.enabled=false" -}}
{{- end -}}
{{- if and (or $v.s3.accessKeyId $v.s3.secretAccessKey) (not (and $v.s3.accessKeyId $v.s3.secretAccessKey)) -}}
{{- fail "set both s3.accessKeyId and s3.secretAccessKey, or neither" -}}
{{- end -}}
{{- $consumed := false -}}
{{- $alwaysUp := false -}}
{{- range $name, $pool := $v.workerPools -}}
{{- if $pool.enabled -}}
{{- if eq $pool.queue $v.defaultQueue -}}{{- $consumed = true -}}{{- end -}}
{{- if gt (int (ternary $pool.keda.minReplicaCount $pool.replicas $v.keda.enabled)) 0 -}}{{- $alwaysUp = true -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $consumed -}}
{{- fail (printf "no enabled worker pool consumes defaultQueue %q: jobs that name no queue would wait for ever" $v.defaultQueue) -}}
{{- end -}}
{{- if not $alwaysUp -}}
{{- fail "every worker pool may be at zero replicas: the API's /readyz needs a worker online, so keep one pool at 1 or more (replicas, or keda.minReplicaCount with KEDA)" -}}
{{- end -}}
{{- if and $v.keda.enabled $v.redis.existingSecret (not $v.keda.redis.address) -}}
{{- fail "with redis.existingSecret set keda.redis.address (host:port), and keda.redis.passwordSecret if Redis has a password: the chart cannot read your Secret" -}}
{{- end -}}
{{- end -}}

{{/* The names of the ten redis triggers of a pool's ScaledObject, comma-separated */}}
{{- define "kq.priorityTriggerNames" -}}
{{- $names := list -}}
{{- range $step := until 10 -}}
{{- $names = append $names (printf "priority%d" $step) -}}
{{- end -}}
{{- join "," $names -}}
{{- end -}}
