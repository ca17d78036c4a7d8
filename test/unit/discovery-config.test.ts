// The discovery options: --dns-name, --dns-server, --k8s-service, --k8s-port, and the rules that tie
// them to --discovery.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { refusal as problems } from '../support/config.ts';
import { parseDnsServers, parseDnsTarget, parseK8sPort, parseK8sService } from '../../gateway/src/config/discovery-values.ts';
import { ValueError } from '../../gateway/src/config/values.ts';


test('--dns-name: host:port means A/AAAA on that port; an _service._proto name means SRV', () => {
  assert.deepEqual(parseDnsTarget('mcp.ns.svc.cluster.local:8080'), { kind: 'address', host: 'mcp.ns.svc.cluster.local', port: 8080 });
  assert.deepEqual(parseDnsTarget(' mcp-headless:3000 '), { kind: 'address', host: 'mcp-headless', port: 3000 });
  assert.deepEqual(parseDnsTarget('mcp.ns.svc.cluster.local.:80'), { kind: 'address', host: 'mcp.ns.svc.cluster.local.', port: 80 });
  assert.deepEqual(parseDnsTarget('_mcp._tcp.mcp.ns.svc.cluster.local'), { kind: 'srv', name: '_mcp._tcp.mcp.ns.svc.cluster.local' });
  for (const bad of ['mcp.ns.svc', 'mcp:0', 'mcp:65536', 'mcp:http', ':8080', 'http://mcp:8080', 'a b:80', '_mcp', '-x.y:80', `${'a'.repeat(64)}.x:80`]) {
    assert.throws(() => parseDnsTarget(bad), ValueError, bad);
  }
});

test('--dns-server: ip or ip:port, IPv6 in brackets with a port', () => {
  assert.deepEqual(parseDnsServers('10.96.0.10'), ['10.96.0.10']);
  assert.deepEqual(parseDnsServers('127.0.0.1:5353, [::1]:53,::1'), ['127.0.0.1:5353', '[::1]:53', '::1']);
  for (const bad of ['', 'dns.local', '127.0.0.1:99999', '300.1.1.1', '[::1]:x']) assert.throws(() => parseDnsServers(bad), ValueError, bad);
});

test('--k8s-service: name or namespace/name, Kubernetes object names only', () => {
  assert.deepEqual(parseK8sService('mcp'), { namespace: undefined, name: 'mcp' });
  assert.deepEqual(parseK8sService('tools/mcp-servers'), { namespace: 'tools', name: 'mcp-servers' });
  for (const bad of ['', 'MCP', 'a/b/c', '/mcp', 'ns/', 'mcp_server', '-mcp']) assert.throws(() => parseK8sService(bad), ValueError, bad);
});

test('--k8s-port: a port name or a number', () => {
  assert.equal(parseK8sPort('mcp'), 'mcp');
  assert.equal(parseK8sPort('8080'), 8080);
  for (const bad of ['0', '70000', 'Mcp', 'has space', '']) assert.throws(() => parseK8sPort(bad), ValueError, bad);
});

test('each discovery mode needs its own option and refuses the others', () => {
  assert.match(problems(['--discovery', 'dns'])[0] as string, /^--dns-name \(DNS_NAME\): dns discovery needs/);
  assert.match(problems(['--discovery', 'kubernetes'])[0] as string, /^--k8s-service \(K8S_SERVICE\): kubernetes discovery needs/);
  const mixed = problems(['--discovery', 'kubernetes', '--k8s-service', 'mcp', '--backends', 'http://a:1/mcp'], { DNS_NAME: 'x:1' });
  assert.deepEqual(mixed.sort(), [
    '--backends (MCP_BACKENDS): applies to --discovery static only, not kubernetes',
    '--dns-name (DNS_NAME): applies to --discovery dns only, not kubernetes',
  ]);
  assert.match(problems(['--backends', 'http://a:1/mcp', '--k8s-port', 'mcp'])[0] as string, /^--k8s-port \(K8S_PORT\): applies to --discovery kubernetes only/);
  assert.match(problems(['--discovery', 'consul'])[0] as string, /^--discovery \(DISCOVERY\): expected one of static, dns, kubernetes/);
});

test('a valid configuration per mode, from flags and from the environment', () => {
  const dns = loadConfig(['--discovery', 'dns', '--dns-name', '_mcp._tcp.mcp.ns.svc.cluster.local'], { DNS_SERVER: '127.0.0.1:5353', DNS_INTERVAL: '2s' });
  assert.equal(dns.kind, 'run');
  if (dns.kind === 'run') {
    assert.deepEqual(dns.config.dnsName, { kind: 'srv', name: '_mcp._tcp.mcp.ns.svc.cluster.local' });
    assert.deepEqual(dns.config.dnsServers, ['127.0.0.1:5353']);
    assert.equal(dns.config.dnsIntervalMs, 2000);
  }
  const k8s = loadConfig([], { DISCOVERY: 'kubernetes', K8S_SERVICE: 'tools/mcp', K8S_PORT: 'mcp' });
  assert.equal(k8s.kind, 'run');
  if (k8s.kind === 'run') {
    assert.deepEqual(k8s.config.k8sService, { namespace: 'tools', name: 'mcp' });
    assert.equal(k8s.config.k8sPort, 'mcp');
    assert.deepEqual(k8s.config.backends, []);
  }
});
