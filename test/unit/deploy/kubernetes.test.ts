/**
 * `deploy/kubernetes/`, checked offline: every object against the upstream Kubernetes API schemas
 * (kubernetes-models), then what a schema cannot see: probes on the gateway's routes, a grace
 * period that covers the shutdown delay and drain, non-root read-only pods, secrets only from the
 * Secret, selectors that match, egress limited to the ports fhirgate needs, and an environment
 * that `src/config.ts` accepts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config.js';
import { configEnvNames, ROOT, readRepoFile } from './deploy-files.js';

const DIR = 'deploy/kubernetes';

// biome-ignore lint/suspicious/noExplicitAny: each model class takes its own typed object
type ModelClass = new (data: any) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are read as plain YAML
  [key: string]: any;
}

function load(file: string): K8sObject[] {
  return parseAllDocuments(readRepoFile(`${DIR}/${file}`)).map((d) => d.toJS() as K8sObject);
}

const files = readdirSync(join(ROOT, DIR)).filter((f) => f.endsWith('.yaml'));
const objects = files
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((f) => load(f).map((o) => ({ file: f, object: o })));

function one(kind: string): K8sObject {
  const found = objects.filter((o) => o.object.kind === kind);
  expect(found, kind).toHaveLength(1);
  return (found[0] as { object: K8sObject }).object;
}

describe('deploy/kubernetes', () => {
  it.each(objects.map((o) => [`${o.file} ${o.object.kind}`, o.object] as const))(
    '%s validates against the Kubernetes API schema',
    (_, object) => {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${object.apiVersion} ${object.kind} has a model`).toBeDefined();
      expect(() => new (Model as ModelClass)(object).validate()).not.toThrow();
    },
  );

  it('a broken object fails validation (the check is real)', () => {
    const broken = structuredClone(one('Deployment'));
    broken['spec'].replicas = 'two';
    delete broken['spec'].selector;
    expect(() => new Deployment(broken).validate()).toThrow(/selector|replicas/);
  });

  it('the kustomization applies every manifest except the example Secret', () => {
    const [kustomization] = load('kustomization.yaml');
    expect([...((kustomization?.['resources'] ?? []) as string[])].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort(),
    );
  });

  const deployment = one('Deployment');
  const pod = deployment['spec'].template.spec;
  const container = pod.containers[0];
  const config = one('ConfigMap')['data'] as Record<string, string>;

  it('probes the gateway: /healthz for liveness and startup, /readyz for readiness', () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.ports.find((p: { name: string }) => p.name === 'http').containerPort).toBe(
      Number(config['PORT']),
    );
  });

  it('the grace period covers the shutdown delay, the drain and the readiness probe', () => {
    const delayMs = Number(config['FHIRGATE_SHUTDOWN_DELAY_MS']);
    const drainMs = Number(config['FHIRGATE_SHUTDOWN_TIMEOUT_MS']);
    const probe = container.readinessProbe;
    // The endpoints controller sees the 503 within one probe period: the delay must be longer.
    expect(delayMs).toBeGreaterThanOrEqual(probe.periodSeconds * probe.failureThreshold * 1000 * 2);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(
      delayMs + drainMs + 5000,
    );
  });

  it('runs as non-root on a read-only root filesystem without privileges', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    // The only writable path is an emptyDir at /tmp (tsx's compile cache).
    expect(
      container.volumeMounts.filter((m: { readOnly?: boolean }) => m.readOnly !== true),
    ).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('takes secrets only from the Secret, and the whole environment passes src/config.ts', () => {
    const secretKeys = new Set(Object.keys(load('secret.example.yaml')[0]?.['stringData'] ?? {}));
    const env: Record<string, string> = { ...config };
    for (const entry of container.env as Array<{
      name: string;
      value?: string;
      valueFrom?: { secretKeyRef: { name: string; key: string } };
    }>) {
      if (entry.valueFrom !== undefined) {
        expect(entry.valueFrom.secretKeyRef.name).toBe('fhirgate-secrets');
        expect(secretKeys.has(entry.valueFrom.secretKeyRef.key), entry.name).toBe(true);
        env[entry.name] =
          entry.name === 'FHIRGATE_ENCRYPTION_KEY'
            ? Buffer.alloc(32, 1).toString('base64')
            : entry.name === 'FHIRGATE_ENCRYPTION_KEY_ID'
              ? 'k1'
              : entry.name.endsWith('_URL')
                ? entry.name === 'REDIS_URL'
                  ? 'rediss://:x@redis.internal:6380'
                  : 'mysql://u:p@registry.db.internal:3306/fhirgate'
                : 'a-metrics-token-of-some-length';
      } else {
        env[entry.name] = entry.value as string;
      }
    }
    for (const secret of ['FHIRGATE_REGISTRY_URL', 'FHIRGATE_ENCRYPTION_KEY', 'REDIS_URL']) {
      expect(config[secret], `${secret} is not in the ConfigMap`).toBeUndefined();
      expect(
        (container.env as Array<{ name: string; valueFrom?: unknown }>).find(
          (e) => e.name === secret,
        )?.valueFrom,
      ).toBeDefined();
    }
    const known = configEnvNames();
    for (const name of Object.keys(env).filter((n) => n !== 'NODE_OPTIONS')) {
      expect(known.has(name), `${name} is read by src/config.ts`).toBe(true);
    }
    const loaded = loadConfig(env);
    expect(loaded.demo).toBe(false);
    expect(loaded.dbTlsPolicy).toBe('require-verified');
    expect(loaded.registryTls.caFile).toBe(
      `${container.volumeMounts.find((m: { name: string }) => m.name === 'registry-ca').mountPath}/registry-ca.pem`,
    );
  });

  it('the Service, HPA, PDB and NetworkPolicy select the Deployment and its pods', () => {
    const labels = deployment['spec'].template.metadata.labels as Record<string, string>;
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(matches(deployment['spec'].selector.matchLabels)).toBe(true);
    expect(matches(one('Service')['spec'].selector)).toBe(true);
    expect(matches(one('PodDisruptionBudget')['spec'].selector.matchLabels)).toBe(true);
    expect(matches(one('NetworkPolicy')['spec'].podSelector.matchLabels)).toBe(true);
    const hpa = one('HorizontalPodAutoscaler')['spec'];
    expect(hpa.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'fhirgate',
    });
    // A disruption never takes the last replica: the HPA keeps at least two.
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
    expect(one('PodDisruptionBudget')['spec'].maxUnavailable).toBe(1);
  });

  it('egress goes to DNS, the registry, Redis, Keycloak and the hospital ranges only', () => {
    const policy = one('NetworkPolicy')['spec'];
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    const ports = (policy.egress as Array<{ ports: Array<{ port: number }>; to: unknown[] }>)
      .flatMap((rule) => {
        expect(rule.to.length, 'every egress rule names its destination').toBeGreaterThan(0);
        return rule.ports.map((p) => p.port);
      })
      .sort((a, b) => a - b);
    expect([...new Set(ports)]).toEqual([53, 443, 3306, 6379]);
  });
});
