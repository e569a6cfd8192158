// Errors of the pure core: every one names the field it is about, so that the
// controller can put it in a condition and the kubectl plugin can print it as is.

export interface FieldIssue {
  /** A Kubernetes-style field path, e.g. spec.units[0].command[0]. */
  field: string;
  message: string;
}

/** A single invalid input; message is "<field>: <what is wrong>". */
export class FieldError extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'FieldError';
    this.field = field;
    this.reason = reason;
  }
}

/** render() refuses a workload that validateWorkload() rejects; issues lists why. */
export class InvalidWorkloadError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(`invalid SystemdWorkload: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidWorkloadError';
    this.issues = issues;
  }
}
