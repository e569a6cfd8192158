// The SystemdWorkloadPolicy table (test/cases/admission.ts), offline: what
// config/policy's CEL admits and refuses in test/e2e/security/policy.test.ts,
// src/controller/policy.ts admits and refuses with the same message.
import type { SystemdWorkload, SystemdWorkloadPolicy } from '../../../src/api/types.js';
import { evaluatePolicy, formatPolicyIssues } from '../../../src/controller/policy.js';
import { POLICY_RULES, manifest } from '../../cases/admission.js';

const NS = 'team-a';
const POLICY = 'team-a-policy';

function judge(spec: Record<string, unknown>, rule: (typeof POLICY_RULES)[number]): string {
  const wl = JSON.parse(manifest('w', spec, NS)) as SystemdWorkload;
  const policy: SystemdWorkloadPolicy = {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkloadPolicy',
    metadata: { name: POLICY },
    spec: { namespaces: [NS], ...rule.policy },
  };
  return formatPolicyIssues(evaluatePolicy(wl, policy));
}

describe.each(POLICY_RULES.map((r) => [r.rule, r] as const))('policy rule, offline: %s', (_name, rule) => {
  if (rule.refused.length > 0) {
    it.each(rule.refused.map(([spec, m], j) => [j, spec, m] as const))('refuses case %i with the admission message', (_j, spec, m) => {
      expect(judge(spec, rule)).toBe(
        m.replace('namespace NS', `namespace ${NS}`).replace('SystemdWorkloadPolicy P', `SystemdWorkloadPolicy ${POLICY}`),
      );
    });
  }
  it.each(rule.allowed.map((spec, j) => [j, spec] as const))('admits allowed case %i', (_j, spec) => {
    expect(judge(spec, rule)).toBe('');
  });
});
