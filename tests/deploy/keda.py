"""A structural check of KEDA's two kinds used in deploy/kubernetes/: ScaledObject and
TriggerAuthentication (keda.sh/v1alpha1). kubernetes-validate knows only Kubernetes' own
kinds, and no pinned package ships KEDA's CRD schemas, so this is a JSON Schema written from
KEDA 2.x's CRDs (config/crd/bases/keda.sh_scaledobjects.yaml and
keda.sh_triggerauthentications.yaml in kedacore/keda) and its Redis list scaler's documented
parameters, restricted to what civicpanel uses and strict about names (no unknown field), so a
misspelt field fails here rather than being ignored by the cluster. A ScaledObject's
`advanced.horizontalPodAutoscalerConfig.behavior` is the HorizontalPodAutoscaler's own, and is
checked by kubernetes-validate as autoscaling/v2."""

from __future__ import annotations

import jsonschema
import kubernetes_validate

INT32 = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
# A Redis list scaler's parameters (KEDA 2.x "Redis Lists" scaler); every value is a string.
REDIS_LIST_METADATA = {
    "type": "object",
    "properties": {
        "address": {"type": "string", "pattern": r"^[a-z0-9.-]+:[0-9]+$"},
        "host": {"type": "string"},
        "port": {"type": "string", "pattern": r"^[0-9]+$"},
        "addressFromEnv": {"type": "string"},
        "hostFromEnv": {"type": "string"},
        "portFromEnv": {"type": "string"},
        "usernameFromEnv": {"type": "string"},
        "passwordFromEnv": {"type": "string"},
        "listName": {"type": "string", "minLength": 1},
        "listLength": {"type": "string", "pattern": r"^[1-9][0-9]*$"},
        "activationListLength": {"type": "string", "pattern": r"^[0-9]+$"},
        "databaseIndex": {"type": "string", "pattern": r"^[0-9]+$"},
        "enableTLS": {"enum": ["true", "false"]},
        "unsafeSsl": {"enum": ["true", "false"]},
    },
    "required": ["listName"],
    "additionalProperties": False,
}
METADATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["name"],
    "additionalProperties": False,
}
SCALED_OBJECT = {
    "type": "object",
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": METADATA,
        "spec": {
            "type": "object",
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "envSourceContainerName": {"type": "string"},
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
                "pollingInterval": INT32,
                "cooldownPeriod": INT32,
                "initialCooldownPeriod": INT32,
                "idleReplicaCount": INT32,
                "minReplicaCount": INT32,
                "maxReplicaCount": INT32,
                "advanced": {
                    "type": "object",
                    "properties": {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": {
                            "type": "object",
                            "properties": {"name": {"type": "string"},
                                           "behavior": {"type": "object"}},
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                },
                "fallback": {
                    "type": "object",
                    "properties": {"failureThreshold": INT32, "replicas": INT32},
                    "required": ["failureThreshold", "replicas"],
                    "additionalProperties": False,
                },
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "useCachedMetrics": {"type": "boolean"},
                            "metadata": {"type": "object",
                                         "additionalProperties": {"type": "string"}},
                            "authenticationRef": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "kind": {"enum": ["TriggerAuthentication",
                                                      "ClusterTriggerAuthentication"]},
                                },
                                "required": ["name"],
                                "additionalProperties": False,
                            },
                        },
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "if": {"properties": {"type": {"const": "redis"}}},
                        "then": {"properties": {"metadata": REDIS_LIST_METADATA}},
                    },
                },
            },
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
        },
    },
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
}
TRIGGER_AUTHENTICATION = {
    "type": "object",
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "TriggerAuthentication"},
        "metadata": METADATA,
        "spec": {
            "type": "object",
            "properties": {
                "secretTargetRef": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {"parameter": {"type": "string"},
                                       "name": {"type": "string"},
                                       "key": {"type": "string"}},
                        "required": ["parameter", "name", "key"],
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
    },
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
}
SCHEMAS = {"ScaledObject": SCALED_OBJECT, "TriggerAuthentication": TRIGGER_AUTHENTICATION}


def is_keda(document: dict) -> bool:
    return document.get("apiVersion", "").startswith("keda.sh/")


def validate(document: dict, kubernetes_version: str) -> None:
    """Raise jsonschema's ValidationError (or kubernetes-validate's) for a KEDA document that
    does not fit."""
    schema = SCHEMAS.get(document.get("kind"))
    if schema is None:
        raise jsonschema.ValidationError(f"no schema for KEDA's {document.get('kind')}")
    jsonschema.Draft202012Validator(schema).validate(document)
    behavior = (document["spec"].get("advanced", {}).get("horizontalPodAutoscalerConfig", {})
                .get("behavior"))
    if behavior is not None:
        kubernetes_validate.validate({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": document["metadata"]["name"]},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": document["spec"]["scaleTargetRef"]["name"]},
                     "maxReplicas": 1, "behavior": behavior},
        }, kubernetes_version, strict=True)
