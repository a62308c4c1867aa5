# What a user of Debian's ruby-kubeclient does against kubefacade: list, create, watch until
# Running, strategic and JSON patch, logs with follow, events by field selector, delete and wait.
# Prints one `ok <step>` line per step; any failure raises (exit status 1).
require 'kubeclient'

config = Kubeclient::Config.read(ENV.fetch('KUBECONFIG'))
context = config.context
core = Kubeclient::Client.new(context.api_endpoint + '/api', 'v1',
                              ssl_options: context.ssl_options, auth_options: context.auth_options)
ns = ENV.fetch('SUITE_NAMESPACE', 'ruby-suite')
$stdout.sync = true

def ok(step)
  puts "ok #{step}"
end

def check(condition, message)
  raise message unless condition
end

pods = core.get_pods(namespace: 'default')
check(pods.respond_to?(:each), 'list did not return a collection')
ok 'list'

core.create_namespace(Kubeclient::Resource.new(metadata: { name: ns }))
web = Kubeclient::Resource.new(
  metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] }
)
created = core.create_pod(web)
check(created.metadata.name == 'web' && created.metadata.uid, 'create returned no uid')
ok 'create'

def wait_for(core, ns, name)
  watcher = core.watch_pods(namespace: ns, field_selector: "metadata.name=#{name}", timeout_seconds: 60)
  result = nil
  watcher.each do |notice|
    result = yield notice
    break if result
  end
  watcher.finish
  result
end

phase = wait_for(core, ns, 'web') { |notice| notice.object.status&.phase == 'Running' ? 'Running' : nil }
check(phase == 'Running', 'the watch ended before the pod ran')
ok 'watch-running'

patched = core.patch_pod('web', { metadata: { labels: { tier: 'front' } } }, ns)
check(patched.metadata.labels.to_h == { app: 'web', tier: 'front' }, "strategic merge patch: #{patched.metadata.labels.to_h}")
patched = core.json_patch_pod('web', [{ op: 'replace', path: '/metadata/labels/tier', value: 'back' }], ns)
check(patched.metadata.labels.tier == 'back', 'JSON patch did not replace the label')
ok 'patch'

talker = Kubeclient::Resource.new(
  metadata: { name: 'talker', namespace: ns },
  spec: { restartPolicy: 'Never',
          containers: [{ name: 'say', image: 'busybox:1.36', command: ['sh', '-c', 'echo one; echo two; sleep 2; echo three'] }] }
)
core.create_pod(talker)
wait_for(core, ns, 'talker') { |notice| %w[Running Succeeded].include?(notice.object.status&.phase) }
lines = []
core.watch_pod_log('talker', ns).each { |line| lines << line }
text = lines.join("\n")
check(text.include?('one') && text.include?('two') && text.include?('three'), "followed logs: #{text}")
ok 'logs-follow'

events = core.get_events(namespace: ns, field_selector: 'involvedObject.name=web')
reasons = events.map(&:reason)
check(reasons.include?('Started') && events.all? { |e| e.involvedObject.name == 'web' }, "events: #{reasons}")
ok 'events-field-selector'

core.delete_pod('web', ns)
gone = wait_for(core, ns, 'web') { |notice| notice.type == 'DELETED' }
check(gone, 'no DELETED event')
begin
  core.get_pod('web', ns)
  raise 'the pod is still there'
rescue Kubeclient::ResourceNotFoundError
  ok 'delete-and-wait'
end
