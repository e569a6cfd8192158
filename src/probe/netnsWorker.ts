#!/usr/bin/env node
// The network probes of src/probe/network.ts, run in whatever network namespace
// this process was started in (src/probe/netns.ts starts it with nsenter --net).
// One request per stdin line, {id, probe, timeoutSeconds}; one answer per stdout
// line, {id, ok, message}. It ends when stdin closes (its agent went away).
import readline from 'node:readline';
import { networkProbe, type NetworkProbe } from './network.js';

interface Request {
  id: number;
  probe: NetworkProbe;
  timeoutSeconds?: number;
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let req: Request;
  try {
    req = JSON.parse(line) as Request;
  } catch {
    return;
  }
  void networkProbe(req.probe, req.timeoutSeconds).then((o) => process.stdout.write(`${JSON.stringify({ id: req.id, ...o })}\n`));
});
