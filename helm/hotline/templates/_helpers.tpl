{{- define "hotline.dashed" -}}{{ . | replace "_" "-" }}{{- end -}}
{{- define "hotline.labels" -}}
app.kubernetes.io/part-of: hotline
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ include "hotline.dashed" .name }}
{{- end -}}
{{- define "hotline.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ include "hotline.dashed" .name }}
{{- end -}}
