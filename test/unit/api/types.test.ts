import { API_VERSION, GROUP } from '../../../src/api/types.js';

describe('api constants', () => {
  it('apiVersion is group/version', () => {
    expect(API_VERSION).toBe(`${GROUP}/v1alpha1`);
  });
});
