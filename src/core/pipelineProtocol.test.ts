import { describe, expect, it } from 'vitest';

import { LineSplitter, parseWorkerLine, shardRequest, StepProgress } from './pipelineProtocol.ts';

describe('worker protocol', () => {
  it('parses each event kind', () => {
    expect(parseWorkerLine('{"event":"start","step":"sample","pid":12,"device":"cuda:0 H100","protocol":1}')).toEqual({
      kind: 'event',
      event: { event: 'start', step: 'sample', pid: 12, device: 'cuda:0 H100', protocol: 1 },
    });
    expect(parseWorkerLine('{"event":"progress","split":"train","shard":3,"done":5,"total":10,"unit":"prompts"}')).toMatchObject({
      kind: 'event',
      event: { event: 'progress', shard: 3, done: 5, total: 10 },
    });
    expect(parseWorkerLine('{"event":"shard_done","split":"test","shard":0,"prompts":9,"kept":8,"seconds":1.5,"extra":true}')).toMatchObject({
      kind: 'event',
      event: { event: 'shard_done', split: 'test', shard: 0, prompts: 9, kept: 8 },
    });
    expect(parseWorkerLine('{"event":"error","message":"boom","fatal":true}')).toMatchObject({ kind: 'event', event: { event: 'error', fatal: true } });
  });

  it('tells stray output from broken events', () => {
    expect(parseWorkerLine('Loading checkpoint shards: 100%')).toEqual({ kind: 'noise', text: 'Loading checkpoint shards: 100%' });
    expect(parseWorkerLine('{not json')).toEqual({ kind: 'noise', text: '{not json' });
    expect(parseWorkerLine('{"loss": 0.3}')).toEqual({ kind: 'noise', text: '{"loss": 0.3}' });
    const bad = parseWorkerLine('{"event":"progress","split":"train","shard":-1,"done":1}');
    expect(bad.kind).toBe('invalid');
    expect(bad.kind === 'invalid' && bad.reason).toMatch(/shard: .*total: /);
    expect(parseWorkerLine('{"event":"hello"}').kind).toBe('invalid');
  });

  it('cuts chunks into lines, whatever the chunk boundaries', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":')).toEqual([]);
    expect(s.push('1}\r\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n\n{"c":3}\n')).toEqual(['{"b":2}', '{"c":3}']);
    expect(s.push('tail')).toEqual([]);
    expect(s.end()).toEqual(['tail']);
    expect(shardRequest('train', 3)).toBe('{"split":"train","shard":3}\n');
  });
});

describe('step progress', () => {
  const shards = [
    { key: 'train/00000', units: 100 },
    { key: 'train/00001', units: 100 },
    { key: 'test/00000', units: 200 },
  ];

  it('weighs shards by units, counts partial progress and measures the rate from the first ready worker', () => {
    const p = new StepProgress('sample', 'responses', shards, new Set(['train/00000']));
    p.addWorker('gpu 0');
    p.addWorker('gpu 1');
    let s = p.snapshot(0);
    expect(s).toMatchObject({ doneUnits: 100, totalUnits: 400, fraction: 0.25, rate: null, etaSeconds: null, shardsDone: 1, shardsTotal: 3 });
    expect(s.workers).toEqual([
      { worker: 'gpu 0', shard: null, fraction: 0, ready: false },
      { worker: 'gpu 1', shard: null, fraction: 0, ready: false },
    ]);
    // Models load for 30 s; that time does not count against the rate.
    p.ready('gpu 0', 30_000);
    p.ready('gpu 1', 31_000);
    p.shardStarted('gpu 0', 'train/00001');
    p.shardStarted('gpu 1', 'test/00000');
    p.shardProgress('gpu 1', 'test/00000', 25, 100); // a quarter of 200 units
    p.shardDone('gpu 0', 'train/00001', 40_000);
    s = p.snapshot(40_000);
    // This session: 100 (finished) + 50 (partial) units in 10 s → 15 units/s; 150 units left → 10 s.
    expect(s.doneUnits).toBe(250);
    expect(s.rate).toBeCloseTo(15, 10);
    expect(s.etaSeconds).toBeCloseTo(10, 10);
    expect(s.workers).toEqual([
      { worker: 'gpu 0', shard: null, fraction: 0, ready: true },
      { worker: 'gpu 1', shard: 'test/00000', fraction: 0.25, ready: true },
    ]);
  });

  it('counts retries and failures, and drops a failed attempt’s partial progress', () => {
    const p = new StepProgress('embed', 'responses', shards, new Set());
    p.addWorker('w');
    p.ready('w', 0);
    p.shardStarted('w', 'test/00000');
    p.shardProgress('w', 'test/00000', 1, 2);
    expect(p.snapshot(1000).doneUnits).toBe(100);
    p.shardFailed('w', 'test/00000', true);
    p.shardStarted('w', 'test/00000');
    p.shardFailed('w', 'test/00000', false);
    const s = p.snapshot(2000);
    expect(s).toMatchObject({ doneUnits: 0, retries: 1, failed: 1, shardsDone: 0 });
    p.removeWorker('w');
    expect(p.snapshot(3000).workers).toEqual([]);
  });
});
