"""A strict schema check of Kubernetes objects with the models of Debian's
python3-kubernetes: every key must be a field of its model (the client's own
deserializer drops unknown keys silently), every value of its type, and the
models' own validation (required fields, enums) must accept the object."""

import datetime

import kubernetes.client as k8s
from kubernetes.client import ApiClient

# Debian 12's client (22.6) predates two APIs the manifests use; their schema
# is added here, from the Kubernetes API reference:
#  - autoscaling/v2 (GA in 1.23) has exactly the fields of autoscaling/v2beta2;
#  - Probe.grpc (1.24, GA 1.27): GRPCAction{port (required), service}.
MODEL_OF_API = {("autoscaling/v2", "HorizontalPodAutoscaler"): "V2beta2HorizontalPodAutoscaler"}
EXTRA_FIELDS = {"V1Probe": {"grpc": "GRPCAction"}}
EXTRA_MODELS = {"GRPCAction": ({"port": "int", "service": "str"}, {"port"})}


def model_name(api_version, kind):
    if (api_version, kind) in MODEL_OF_API:
        return MODEL_OF_API[(api_version, kind)]
    group, _, version = api_version.rpartition("/")
    return version.capitalize() + kind


def fields_of(name):
    """JSON key -> type string of model NAME, and its required keys."""
    if name in EXTRA_MODELS:
        return EXTRA_MODELS[name]
    cls = getattr(k8s, name)
    fields = {cls.attribute_map[a]: t for a, t in cls.openapi_types.items()}
    fields.update(EXTRA_FIELDS.get(name, {}))
    return fields, set()


def _check(value, type_name, where, errors):
    if type_name.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list, got {value!r}")
            return
        for i, item in enumerate(value):
            _check(item, type_name[5:-1], f"{where}[{i}]", errors)
    elif type_name.startswith("dict("):
        inner = type_name[5:-1].split(", ", 1)[1]
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a map, got {value!r}")
            return
        for k, v in value.items():
            _check(v, inner, f"{where}.{k}", errors)
    elif type_name == "str":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {value!r}")
    elif type_name == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{where}: expected an integer, got {value!r}")
    elif type_name == "bool":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected true/false, got {value!r}")
    elif type_name == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{where}: expected a number, got {value!r}")
    elif type_name == "datetime":
        if not isinstance(value, (str, datetime.datetime)):
            errors.append(f"{where}: expected a time, got {value!r}")
    elif type_name == "object":
        pass  # int-or-string and free-form fields (quantities, targetPort)
    else:
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object ({type_name}), got {value!r}")
            return
        fields, required = fields_of(type_name)
        for key, v in value.items():
            if key not in fields:
                errors.append(f"{where}: unknown field {key!r} in {type_name}")
            elif v is not None:
                _check(v, fields[key], f"{where}.{key}", errors)
        for key in sorted(required - value.keys()):
            errors.append(f"{where}: missing required field {key!r} of {type_name}")


def check(obj):
    """The problems of one object (a dict with apiVersion and kind); empty when
    it deserialises strictly."""
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    name = model_name(obj.get("apiVersion", ""), obj.get("kind", ""))
    if not hasattr(k8s, name):
        return [f"{where}: no model {name} for apiVersion {obj.get('apiVersion')!r}"]
    errors = []
    _check(obj, name, where, errors)
    if not errors:
        try:  # required fields and enums, as the client's models check them
            ApiClient()._ApiClient__deserialize(obj, name)
        except (ValueError, TypeError) as e:
            errors.append(f"{where}: {e}")
    return errors
