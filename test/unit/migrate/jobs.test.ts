import { importJobList } from '../../../src/migrate/jobs.js';
import { toWorkloads, workloadsYaml } from '../../../src/migrate/job.js';
import { checkDocuments, parseDocuments } from '../../../src/cli/documents.js';

const JOBS = `jobs:
- name: nightly-backup
  schedule: "30 2 * * *"
  timeZone: Europe/Berlin
  command: pg_dumpall | gzip > /srv/db.gz
  user: postgres
  env: {RETENTION: 7}
  resources:
    requests: {cpu: 100m}
    limits: {cpu: "1", memory: 512Mi}
- name: Web_Server
  command: [/usr/bin/python3, -m, http.server, "8080"]
`;

test('the job list becomes units; one workload per job, valid for admission', () => {
  const r = importJobList(JOBS, 'jobs.yaml');
  expect(r.jobs.map((j) => j.unit)).toEqual([
    {
      name: 'nightly-backup',
      type: 'oneshot',
      command: ['/bin/sh', '-c', 'pg_dumpall | gzip > /srv/db.gz'],
      schedule: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      user: 'postgres',
      env: [{ name: 'RETENTION', value: '7' }],
      resources: { requests: { cpu: '100m' }, limits: { cpu: '1', memory: '512Mi' } },
    },
    { name: 'web-server', type: 'service', command: ['/usr/bin/python3', '-m', 'http.server', '8080'] },
  ]);
  expect(r.issues).toEqual([{ source: 'jobs.yaml: jobs[1]', kind: 'note', message: expect.stringContaining("written as 'web-server'") }]);
  const ws = toWorkloads(r.jobs, { namespace: 'team-a', nodeSelector: { role: 'db' } });
  const checked = checkDocuments(parseDocuments('out', workloadsYaml(ws)).docs);
  expect(checked.problems).toEqual([]);
  expect(checked.workloads.map((w) => [w.workload.metadata.name, w.workload.spec.nodeSelector])).toEqual([
    ['nightly-backup', { role: 'db' }],
    ['web-server', { role: 'db' }],
  ]);
});

test('what the shape does not carry is reported per job', () => {
  const r = importJobList('- name: a\n  command: /bin/true\n  retries: 3\n  resources: {requests: {memory: 1Gi}}\n- command: x\n', 'j');
  expect(r.issues.map((i) => [i.source, i.kind, i.message.split(':')[0]])).toEqual([
    ['j: jobs[0]', 'unsupported', 'retries'],
    ['j: jobs[0]', 'unsupported', 'resources.requests.memory'],
    ['j: jobs[1]', 'unsupported', 'name'],
  ]);
});
