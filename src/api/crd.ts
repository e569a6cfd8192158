// The CustomResourceDefinitions, as plain objects built from schema.ts.
// hack/gen-crds.ts writes them to crds/*.yaml; test/unit/api/crds.test.ts fails
// when the files and these objects disagree.
import { GROUP, POLICY_KIND, POLICY_PLURAL, UNITSET_KIND, UNITSET_PLURAL, VERSION, WORKLOAD_KIND, WORKLOAD_PLURAL } from './types.js';
import { type JSONSchema, policySchema, unitSetSchema, workloadSchema } from './schema.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      selectableFields?: Array<{ jsonPath: string }>;
      schema: { openAPIV3Schema: JSONSchema };
    }>;
  };
}

export const CATEGORY = 'sdw-all';

function crd(opts: {
  kind: string;
  plural: string;
  shortName: string;
  columns: PrinterColumn[];
  schema: JSONSchema;
  selectableFields?: Array<{ jsonPath: string }>;
  /** Default Namespaced. */
  scope?: 'Namespaced' | 'Cluster';
  /** Default true: a status subresource. */
  status?: boolean;
}): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${opts.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'systemd-workload-operator' } },
    spec: {
      group: GROUP,
      scope: opts.scope ?? 'Namespaced',
      names: {
        kind: opts.kind,
        listKind: `${opts.kind}List`,
        plural: opts.plural,
        singular: opts.kind.toLowerCase(),
        shortNames: [opts.shortName],
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(opts.status === false ? {} : { subresources: { status: {} } }),
          additionalPrinterColumns: opts.columns,
          ...(opts.selectableFields ? { selectableFields: opts.selectableFields } : {}),
          schema: { openAPIV3Schema: opts.schema },
        },
      ],
    },
  };
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const workloadCrd: CustomResourceDefinition = crd({
  kind: WORKLOAD_KIND,
  plural: WORKLOAD_PLURAL,
  shortName: 'sdw',
  schema: workloadSchema,
  columns: [
    { name: 'Desired', type: 'integer', jsonPath: '.status.desiredNodes', description: 'Nodes that should run the units.' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyNodes', description: 'Nodes whose units are up.' },
    { name: 'Up-to-date', type: 'integer', jsonPath: '.status.updatedNodes', description: 'Nodes running the current spec.' },
    { name: 'Restarts', type: 'integer', jsonPath: '.status.restarts', description: 'Restarts summed over nodes and units.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    age,
  ],
});

export const unitSetCrd: CustomResourceDefinition = crd({
  kind: UNITSET_KIND,
  plural: UNITSET_PLURAL,
  shortName: 'sdus',
  schema: unitSetSchema,
  // Agents watch with fieldSelector=spec.nodeName=<node>, as kubelets watch Pods:
  // no label-length limit on node names, and one field for node-identity policy.
  selectableFields: [{ jsonPath: '.spec.nodeName' }],
  columns: [
    { name: 'Node', type: 'string', jsonPath: '.spec.nodeName' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Hash', type: 'string', jsonPath: '.spec.shortHash', description: 'The first 12 hex digits of spec.hash.' },
    { name: 'Applied', type: 'string', jsonPath: '.status.appliedHash', priority: 1, description: 'The spec hash the agent has applied.' },
    age,
  ],
});

/** Cluster-scoped, spec only: written by cluster admins, read by admission and the controller. */
export const policyCrd: CustomResourceDefinition = crd({
  kind: POLICY_KIND,
  plural: POLICY_PLURAL,
  shortName: 'sdwp',
  schema: policySchema,
  scope: 'Cluster',
  status: false,
  columns: [
    { name: 'Namespaces', type: 'string', jsonPath: '.spec.namespaces', description: 'The namespaces the policy covers.' },
    { name: 'Allow-root', type: 'boolean', jsonPath: '.spec.allowRoot' },
    age,
  ],
});

/** The CRDs with the file each is written to under crds/. */
export const CRD_FILES: ReadonlyArray<{ file: string; crd: CustomResourceDefinition }> = [
  { file: 'systemdworkloads.yaml', crd: workloadCrd },
  { file: 'systemdunitsets.yaml', crd: unitSetCrd },
  { file: 'systemdworkloadpolicies.yaml', crd: policyCrd },
];
