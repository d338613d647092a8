import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Service } from 'kubernetes-models/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { composeSecrets } from '../../scripts/compose-secrets';
import { loadCompose } from '../../scripts/podman-compose';

/**
 * The Kubernetes example (deploy/kubernetes) against the Kubernetes API's JSON schemas (the
 * kubernetes-models package: offline), and against what the platform needs of it: probes on /livez
 * and /readyz, a PodDisruptionBudget and a Service for every Deployment, the image's security
 * settings, a role the image really has. compose.yaml is read as test:deploy reads it.
 */
const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'deploy', 'kubernetes');
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};
/** The processes the image runs (scripts/build.ts's bundles). */
const ROLES = [
  'services/subjects/dist/index.js',
  'services/appeals/dist/index.js',
  'services/consents/dist/index.js',
  'services/audit/dist/index.js',
  'gateway/dist/index.js',
];

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any; [k: string]: unknown };
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const docs: Array<{ file: string; doc: Doc }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, doc: d.toJS() as Doc };
  }),
);
const validate = (doc: Doc) => {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
};
const of = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);

describe('deploy/kubernetes', () => {
  it('every resource is valid against the Kubernetes API schema', () => {
    expect(docs.length).toBeGreaterThan(10);
    for (const { file, doc } of docs) expect(() => validate(doc), `${file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
  });

  it('the schema check catches a broken manifest', () => {
    const deployment = structuredClone(of('Deployment')[0]!);
    deployment.spec.replicas = 'two';
    expect(() => validate(deployment)).toThrow();
    const probe = structuredClone(of('Deployment')[0]!);
    delete probe.spec.selector;
    expect(() => validate(probe)).toThrow();
  });

  it('kustomization.yaml lists every file', () => {
    const k = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    expect([...k.resources].sort()).toEqual([...files].sort());
  });

  it('each Deployment: a role of the image, probes on /livez and /readyz, non-root, read-only, drained within its grace', () => {
    const deployments = of('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['appeals', 'audit', 'consents', 'gateway', 'subjects']);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      expect(ROLES).toContain(c.args[0]);
      expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(c.livenessProbe.httpGet.path).toBe('/livez');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.startupProbe.httpGet.path).toBe('/readyz');
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      // preStop (5 s) + the drain's deadline (25 s, runMain) fit in the grace period.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30 + 1);
      const port = c.env.find((e: { name: string }) => e.name === 'PORT').value;
      expect(c.ports.find((p: { name: string }) => p.name === 'http').containerPort).toBe(Number(port));
    }
  });

  it('each Deployment has a Service and a PodDisruptionBudget that select its pods', () => {
    for (const d of of('Deployment')) {
      const labels = d.spec.template.metadata.labels as Record<string, string>;
      const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
      expect(
        of('Service').some((s) => selects(s.spec.selector)),
        `Service of ${d.metadata.name}`,
      ).toBe(true);
      const pdb = of('PodDisruptionBudget').find((p) => selects(p.spec.selector.matchLabels));
      expect(pdb, `PodDisruptionBudget of ${d.metadata.name}`).toBeDefined();
      expect(pdb!.spec.minAvailable).toBeLessThan(d.spec.replicas);
    }
  });
});

describe('compose.yaml', () => {
  const compose = loadCompose(join(root, 'compose.yaml'), { PDP_COMPOSE_DIR: '/nonexistent' });
  it('has the stack the platform needs: PostgreSQL, three NATS nodes, two instances of each service, the gateway, the OpenID provider, Prometheus', () => {
    const names = Object.keys(compose.services);
    for (const s of ['subjects', 'appeals', 'consents', 'audit']) expect(names.filter((n) => n.startsWith(`${s}-`))).toHaveLength(2);
    expect(names).toEqual(expect.arrayContaining(['postgres', 'nats-1', 'nats-2', 'nats-3', 'gateway', 'oidc', 'prometheus']));
  });
  it('runs the image read-only, each with a role it has, draining on SIGTERM', () => {
    for (const s of Object.values(compose.services).filter((x) => x.image.includes('pdp-platform'))) {
      expect(s.readOnly, s.name).toBe(true);
      expect(s.stopSignal).toBe('SIGTERM');
      expect([...ROLES, 'packages/dev-oidc/dist/main.js']).toContain(s.command![0]);
    }
  });
  it("gives each service its database's runtime role as DATABASE_URL and migration role as MIGRATION_DATABASE_URL", async () => {
    const out = mkdtempSync(join(tmpdir(), 'pdp-compose-'));
    try {
      await composeSecrets(out);
      const env = (file: string) =>
        Object.fromEntries(
          readFileSync(join(out, file), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
      const initSql = readFileSync(join(out, 'postgres-init', '10-pdp.sql'), 'utf8');
      for (const s of ['subjects', 'appeals', 'consents', 'audit']) {
        const vars = env(`${s}.env`);
        const runtime = new URL(vars.DATABASE_URL!);
        const migration = new URL(vars.MIGRATION_DATABASE_URL!);
        expect([runtime.username, runtime.pathname], s).toEqual([`pdp_${s}_app`, `/pdp_${s}`]);
        expect([migration.username, migration.pathname], s).toEqual([`pdp_${s}_owner`, `/pdp_${s}`]);
        expect(runtime.password).not.toBe(migration.password);
        // Both roles made, the database owned by the migration role, CONNECT for the runtime role.
        expect(initSql).toContain(`CREATE DATABASE "pdp_${s}" OWNER "pdp_${s}_owner"`);
        expect(initSql).toContain(
          `ALTER ROLE "pdp_${s}_app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD '${decodeURIComponent(runtime.password)}'`,
        );
        expect(initSql).toContain(
          `ALTER ROLE "pdp_${s}_owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${decodeURIComponent(migration.password)}'`,
        );
        expect(initSql).toContain(`GRANT CONNECT ON DATABASE "pdp_${s}" TO "pdp_${s}_app"`);
        // A service's database passwords reach no other process.
        for (const other of ['subjects', 'appeals', 'consents', 'audit', 'gateway', 'oidc'].filter((o) => o !== s)) {
          expect(readFileSync(join(out, `${other}.env`), 'utf8')).not.toContain(decodeURIComponent(runtime.password));
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
