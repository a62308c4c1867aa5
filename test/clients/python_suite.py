"""What a user of Debian's python3-kubernetes does against kubefacade: list, create, watch until
Running, strategic and JSON patch, logs with follow, events by field selector, delete and wait.
Prints one `ok <step>` line per step; any failure raises (exit status 1)."""
import os
import sys
import time

from kubernetes import client, config, watch

config.load_kube_config(config_file=os.environ["KUBECONFIG"])
core = client.CoreV1Api()
ns = os.environ.get("SUITE_NAMESPACE", "python-suite")


def ok(step):
    print("ok " + step, flush=True)


pods = core.list_namespaced_pod("default")
assert isinstance(pods.items, list)
ok("list")

core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
web = client.V1Pod(
    metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
    spec=client.V1PodSpec(containers=[client.V1Container(name="nginx", image="nginx:1.27")]),
)
created = core.create_namespaced_pod(ns, web)
assert created.metadata.name == "web" and created.metadata.uid
ok("create")

phase = None
w = watch.Watch()
for event in w.stream(core.list_namespaced_pod, ns, field_selector="metadata.name=web", timeout_seconds=60):
    phase = event["object"].status.phase
    if phase == "Running":
        w.stop()
assert phase == "Running", "the watch ended before the pod ran: %s" % phase
ok("watch-running")

patched = core.patch_namespaced_pod("web", ns, {"metadata": {"labels": {"tier": "front"}}})
assert patched.metadata.labels == {"app": "web", "tier": "front"}, patched.metadata.labels
patched = core.patch_namespaced_pod("web", ns, [{"op": "replace", "path": "/metadata/labels/tier", "value": "back"}])
assert patched.metadata.labels["tier"] == "back", patched.metadata.labels
ok("patch")

talker = client.V1Pod(
    metadata=client.V1ObjectMeta(name="talker"),
    spec=client.V1PodSpec(restart_policy="Never", containers=[client.V1Container(
        name="say", image="busybox:1.36", command=["sh", "-c", "echo one; echo two; sleep 2; echo three"])]),
)
core.create_namespaced_pod(ns, talker)
for event in w.stream(core.list_namespaced_pod, ns, field_selector="metadata.name=talker", timeout_seconds=60):
    if event["object"].status.phase in ("Running", "Succeeded"):
        w.stop()
stream = core.read_namespaced_pod_log("talker", ns, follow=True, _preload_content=False)
lines = [line.decode().strip() for line in stream.stream() for line in line.splitlines()]
text = "\n".join(lines)
assert "one" in text and "two" in text and "three" in text, text
ok("logs-follow")

events = core.list_namespaced_event(ns, field_selector="involvedObject.name=web")
reasons = {e.reason for e in events.items}
assert "Started" in reasons and all(e.involved_object.name == "web" for e in events.items), reasons
ok("events-field-selector")

core.delete_namespaced_pod("web", ns)
gone = False
for event in w.stream(core.list_namespaced_pod, ns, field_selector="metadata.name=web", timeout_seconds=60):
    if event["type"] == "DELETED":
        gone = True
        w.stop()
assert gone
try:
    core.read_namespaced_pod("web", ns)
    raise AssertionError("the pod is still there")
except client.exceptions.ApiException as err:
    assert err.status == 404, err.status
ok("delete-and-wait")
