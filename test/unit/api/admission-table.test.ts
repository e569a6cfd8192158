// The admission table of the CRD schema and its CEL (test/cases/admission.ts),
// offline: every case the API server refuses (test/e2e/controller/admission.test.ts,
// test/e2e/security/bad-inputs.test.ts) validateWorkload refuses too, naming the
// same field and saying the same thing.
import { ACCEPTED_SCHEDULES, SCHEMA_CASES, SCHEMA_EXTRA_CASES, manifest, unit } from '../../cases/admission.js';
import { validateWorkload } from '../../../src/api/validate.js';

/** The issues as kubectl shows the API server's: "<field>: <message>", one a line. */
function refusal(name: string, spec: Record<string, unknown>): string {
  return validateWorkload(JSON.parse(manifest(name, spec)))
    .map((i) => `${i.field}: ${i.message}`)
    .join('\n');
}

describe('the admission table, offline', () => {
  it('accepts the valid base workload (the cases differ from it in one field)', () => {
    expect(refusal('base', { units: [unit()] })).toBe('');
  });

  it.each(ACCEPTED_SCHEDULES)('accepts the CronJob schedule %j (time zone %j)', (schedule, timeZone) => {
    expect(refusal('sched', { units: [unit({ type: 'oneshot', schedule, ...(timeZone ? { timeZone } : {}) })] })).toBe('');
  });

  // The API server capitalises its reasons ("Duplicate value", "Required value"):
  // the field and the words must match, not their case.
  const cases = [...SCHEMA_CASES, ...SCHEMA_EXTRA_CASES].map(
    ([name, spec, expected, workload]) => [name, spec, expected, workload ?? 'bad'] as const,
  );
  it.each(cases)('refuses: %s', (_name, spec, expected, workload) => {
    expect(refusal(workload, spec)).toMatch(new RegExp(expected.source, 'i'));
  });
});
