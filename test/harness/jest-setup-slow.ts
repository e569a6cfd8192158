// Integration and e2e tests start real control planes and systemd nodes.
import { jest } from '@jest/globals';

jest.setTimeout(600_000);
