/**
 * The conformance suite of Process, the queues and Pipe: written once against the public API,
 * run on every backend (`processQueues.<backend>.test.ts`).
 */
import { useTarget, type ConformanceTarget } from './ConformanceTarget.js';
import { describe, expect, it } from 'vitest';
import { BrokenPipeError, EOFError, Empty, Full, ProcessError, SerializationError, ValueError, type Context } from 'fanout';
import {
  consumeJoinable,
  echoDouble,
  exitsWith,
  leavesGrandchild,
  makesQueue,
  noop,
  produce,
  producePatiently,
  consumePatiently,
  waitsForItem,
  putItems,
  putSimple,
  putSquare,
  sendAll,
  sleeps,
  startsChild,
  sumItems,
  takeOne,
  throws,
  whoAmI,
} from '../fixtures/processTasks.js';

const LONG = 120_000;

export function defineProcessConformance(label: string, target: ConformanceTarget): void {
  let mp: Context;
  const n = useTarget(target, (context) => (mp = context));

  describe(`Process (${label})`, () => {
    it('runs its target and ends with exit code 0', async () => {
      const p = new mp.Process({ target: noop });
      expect(p.pid).toBeNull();
      expect(p.exitCode).toBeNull();
      expect(p.isAlive()).toBe(false);
      expect(p.name).toMatch(/^Process-\d+$/);
      expect(p.daemon).toBe(false);
      p.start();
      expect(typeof p.pid).toBe('number');
      expect(p.isAlive()).toBe(true);
      await p.join();
      expect(p.exitCode).toBe(0);
      expect(p.isAlive()).toBe(false);
    });

    it('numbers its default names one after another', () => {
      const first = new mp.Process({ target: noop });
      const second = new mp.Process({ target: noop });
      const number = (name: string) => Number(name.split('-')[1]);
      expect(number(second.name)).toBe(number(first.name) + 1);
      expect(new mp.Process({ target: noop, name: 'worker' }).name).toBe('worker');
    });

    it('ends with exit code 1 when its target throws, and with the code given to process.exit', async () => {
      const failing = new mp.Process({ target: throws, args: ['boom'] });
      const exiting = new mp.Process({ target: exitsWith, args: [7] });
      failing.start();
      exiting.start();
      await Promise.all([failing.join(), exiting.join()]);
      expect(failing.exitCode).toBe(1);
      expect(exiting.exitCode).toBe(7);
    });

    it('terminate() and kill() stop a running process with -15 and -9', async () => {
      const terminated = new mp.Process({ target: sleeps, args: [LONG] });
      const killed = new mp.Process({ target: sleeps, args: [LONG] });
      terminated.start();
      killed.start();
      terminated.terminate();
      killed.kill();
      await Promise.all([terminated.join(), killed.join()]);
      expect(terminated.exitCode).toBe(-15);
      expect(killed.exitCode).toBe(-9);
    });

    it('join(timeout) gives up after the timeout, leaving exitCode null', async () => {
      const p = new mp.Process({ target: sleeps, args: [LONG] });
      p.start();
      await p.join(50);
      expect(p.exitCode).toBeNull();
      expect(p.isAlive()).toBe(true);
      expect(mp.activeChildren()).toContain(p);
      p.terminate();
      await p.join();
      expect(mp.activeChildren()).not.toContain(p);
    });

    it("gives Python's errors for misuse", async () => {
      const p = new mp.Process({ target: noop });
      await expect(p.join()).rejects.toThrow(ProcessError);
      await expect(p.join()).rejects.toThrow('can only join a started process');
      expect(() => p.terminate()).toThrow(ProcessError);
      p.start();
      expect(() => p.start()).toThrow('cannot start a process twice');
      expect(() => (p.daemon = true)).toThrow(ProcessError);
      await p.join();
      expect(() => new mp.Process({ target: (() => 1) as never })).toThrow(/task made by task/);
    });

    it('currentProcess() and parentProcess() describe the process inside it', async () => {
      const out = new mp.Queue<{ current: { name: string; pid: number; daemon: boolean }; parent: { name: string } }>();
      const p = new mp.Process({ target: whoAmI, args: [out], name: 'reporter', daemon: true });
      p.start();
      const seen = await out.get();
      await p.join();
      expect(seen.current).toEqual({ name: 'reporter', pid: p.pid, daemon: true });
      expect(seen.parent.name).toBe('MainProcess');
      expect(mp.currentProcess().name).toBe('MainProcess');
      expect(mp.parentProcess()).toBeNull();
    });

    it('a process can start children of its own, named after it', async () => {
      const out = new mp.Queue<Record<string, unknown>>();
      const p = new mp.Process({ target: startsChild, args: [out], name: 'Process-parent' });
      // A default name shows the numbering: Process-N starts Process-N:1.
      const named = new mp.Process({ target: startsChild, args: [out] });
      p.start();
      const child = (await out.get()) as { current: { name: string }; parent: { name: string } };
      const report = await out.get();
      await p.join();
      expect(child.parent.name).toBe('Process-parent');
      expect(report).toEqual({ childName: child.current.name, childExitCode: 0, activeAfter: 0 });
      named.start();
      const namedChild = (await out.get()) as { current: { name: string } };
      await out.get();
      await named.join();
      expect(namedChild.current.name).toBe(`${named.name}:1`);
    });

    it(
      'a process ends only after its non-daemon children, and stops its daemon children',
      async () => {
        const out = new mp.Queue<string>();
        const keeps = new mp.Process({ target: leavesGrandchild, args: [out, false, 300] });
        keeps.start();
        await keeps.join();
        // Its grandchild finished before it could exit.
        expect(await out.getNowait()).toBe('finished');
        // The daemon grandchild is still sleeping when its parent ends, however long the stop takes to reach it.
        const sleepMs = 300 + (target.stopLatencyMs ?? 0);
        const stops = new mp.Process({ target: leavesGrandchild, args: [out, true, sleepMs] });
        stops.start();
        await stops.join();
        expect(stops.exitCode).toBe(0);
        // Stopped, it never finishes.
        await expect(out.get({ timeout: sleepMs + 1200 })).rejects.toThrow(Empty);
      },
      LONG,
    );

    it('a daemon process may not start children', async () => {
      const out = new mp.Queue<Record<string, unknown>>();
      const p = new mp.Process({ target: startsChild, args: [out], daemon: true });
      p.start();
      const report = await out.get();
      await p.join();
      expect(report.error).toBe('ProcessError');
      expect(report.message).toMatch(/daemonic processes are not allowed to have children/);
      expect(p.exitCode).toBe(0);
    });

    it('refuses arguments that cannot be sent, naming them', () => {
      const p = new mp.Process({ target: putItems, args: [new mp.Queue(), [() => 1]] as never });
      expect(() => p.start()).toThrow(SerializationError);
      expect(() => p.start()).toThrow(/the arguments\[1\]\[0\]/);
    });
  });

  describe(`Queue (${label})`, () => {
    it('carries the items of the seed example from a process', async () => {
      const q = new mp.Queue();
      const p = new mp.Process({ target: putItems, args: [q, [[42, null, 'hello']]] });
      p.start();
      expect(await q.get()).toEqual([42, null, 'hello']);
      await p.join();
    });

    it('keeps each producer’s items in order, with nothing lost or repeated', async () => {
      const q = new mp.Queue<[number, number]>();
      // Enough items a producer for their puts to interleave, on every target.
      const count = Math.max(50, n(2000));
      const producers = [0, 1, 2].map((producer) => new mp.Process({ target: produce, args: [q, producer, count] }));
      for (const p of producers) p.start();
      const next = [0, 0, 0];
      for (let i = 0; i < 3 * count; i++) {
        const [producer, seq] = await q.get();
        expect(seq).toBe(next[producer]);
        next[producer]!++;
      }
      await Promise.all(producers.map((p) => p.join()));
      expect(next).toEqual([count, count, count]);
      expect(await q.empty()).toBe(true);
    });

    it('works inside pool tasks that receive it as an argument', async () => {
      const q = new mp.Queue<number>();
      await using pool = new mp.Pool(2);
      const xs = Array.from({ length: 20 }, (_, i) => i);
      expect(
        await pool.starmap(
          putSquare,
          xs.map((x) => [q, x] as [typeof q, number]),
        ),
      ).toEqual(xs);
      const squares: number[] = [];
      for (let i = 0; i < xs.length; i++) squares.push(await q.get());
      expect(squares.sort((a, b) => a - b)).toEqual(xs.map((x) => x * x));
    });

    it('pool workers take what a process puts', async () => {
      const q = new mp.Queue<number>();
      const producer = new mp.Process({ target: putItems, args: [q, Array.from({ length: 12 }, (_, i) => i)] });
      producer.start();
      await using pool = new mp.Pool(2);
      const taken = await pool.map(
        takeOne,
        Array.from({ length: 12 }, () => q),
      );
      await producer.join();
      expect(taken.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    });

    it('a queue made in a pool worker comes back as a result and works in the caller', async () => {
      await using pool = new mp.Pool(1);
      const q = (await pool.apply(makesQueue, ['made in a worker'])) as InstanceType<typeof mp.Queue>;
      expect(await q.get({ timeout: 10_000 })).toBe('made in a worker');
    });

    it('a consumer process takes what the main thread puts', async () => {
      const q = new mp.Queue<number>();
      const out = new mp.Queue<number>();
      const p = new mp.Process({ target: sumItems, args: [q, 1000, out] });
      p.start();
      for (let i = 1; i <= 1000; i++) await q.put(i);
      expect(await out.get()).toBe(500500);
      await p.join();
    });

    it('bounded: put waits for room, and non-blocking calls throw Full and Empty', async () => {
      const q = new mp.Queue<number>(2);
      expect(q.maxsize).toBe(2);
      await q.put(1);
      await q.putNowait(2);
      expect(await q.full()).toBe(true);
      expect(await q.qsize()).toBe(2);
      await expect(q.putNowait(3)).rejects.toThrow(Full);
      await expect(q.put(3, { block: false })).rejects.toThrow(Full);
      await expect(q.put(3, { timeout: 20 })).rejects.toThrow(Full);
      // A consumer in another process makes room for a waiting put.
      const out = new mp.Queue<number>();
      const consumer = new mp.Process({ target: sumItems, args: [q, 5, out] });
      consumer.start();
      await q.put(3);
      await q.put(4);
      await q.put(5);
      expect(await out.get()).toBe(15);
      await consumer.join();
      await expect(q.getNowait()).rejects.toThrow(Empty);
      await expect(q.get({ block: false })).rejects.toThrow(Empty);
      await expect(q.get({ timeout: 20 })).rejects.toThrow(Empty);
    });

    it(
      'stress: a bounded queue with put and get timeouts retried loses and repeats nothing',
      async () => {
        // Enough items for many Full and Empty timeouts on every target.
        const perProducer = Math.max(100, n(5000));
        const q = new mp.Queue<[number, number] | null>(8);
        const out = new mp.Queue<[number, number]>();
        const producers = [0, 1].map(
          (producer) => new mp.Process({ target: producePatiently, args: [q, producer, perProducer] }),
        );
        const consumers = [0, 1, 2].map(() => new mp.Process({ target: consumePatiently, args: [q, out] }));
        for (const p of [...producers, ...consumers]) p.start();
        await Promise.all(producers.map((p) => p.join()));
        for (let i = 0; i < consumers.length; i++) await q.put(null);
        await Promise.all(consumers.map((p) => p.join()));
        expect([...producers, ...consumers].map((p) => p.exitCode)).toEqual([0, 0, 0, 0, 0]);
        const counts = new Uint8Array(2 * perProducer);
        while (!(await out.empty())) {
          const [producer, seq] = await out.get();
          counts[producer * perProducer + seq]!++;
        }
        expect(counts.every((count) => count === 1)).toBe(true);
      },
      LONG,
    );

    it('a consumer stopped while it waits does not keep an item from the others', async () => {
      const q = new mp.Queue<string>();
      const ready = new mp.Queue<string>();
      const waiter = new mp.Process({ target: waitsForItem, args: [q, ready] });
      waiter.start();
      await ready.get();
      const waiting = q.get();
      waiter.terminate();
      await waiter.join();
      await q.put('for the live consumer');
      expect(await waiting).toBe('for the live consumer');
    });

    it('carries large items (several MB) between processes', async () => {
      const q = new mp.Queue<string>();
      const big = 'x'.repeat(3 * 1024 * 1024);
      const items = [big, 'small', big + 'y'];
      const p = new mp.Process({ target: putItems, args: [q, items] });
      p.start();
      expect(await q.get()).toBe(big);
      expect(await q.get()).toBe('small');
      expect(await q.get()).toBe(big + 'y');
      await p.join();
    });

    it('refuses items that cannot cross, and shared objects inside items', async () => {
      const q = new mp.Queue();
      await expect(q.put(() => 1)).rejects.toThrow(SerializationError);
      await expect(q.put({ inner: new mp.Queue() })).rejects.toThrow(/shared object/);
      expect(await q.qsize()).toBe(0);
    });

    it('close() stops this object from putting and getting', async () => {
      const q = new mp.Queue();
      q.close();
      await expect(q.put(1)).rejects.toThrow(ValueError);
      await expect(q.get()).rejects.toThrow(ValueError);
    });
  });

  describe(`JoinableQueue (${label})`, () => {
    it('taskDone() more often than items were put throws ValueError', async () => {
      const q = new mp.JoinableQueue();
      await q.put(1);
      await q.get();
      await q.taskDone();
      await expect(q.taskDone()).rejects.toThrow(ValueError);
      await q.join();
    });

    it(
      'stress: 4 producers and 4 consumers move every item exactly once (100,000 locally); join returns after the last taskDone',
      async () => {
        const total = n(100_000);
        const perProducer = total / 4;
        const jobs = new mp.JoinableQueue<[number, number] | null>();
        const seen = new mp.Queue<[number, number]>();
        const consumers = Array.from({ length: 4 }, () => new mp.Process({ target: consumeJoinable, args: [jobs, seen] }));
        const producers = Array.from(
          { length: 4 },
          (_, producer) => new mp.Process({ target: produce, args: [jobs, producer, perProducer] }),
        );
        for (const p of [...consumers, ...producers]) p.start();
        await Promise.all(producers.map((p) => p.join()));
        expect(producers.map((p) => p.exitCode)).toEqual([0, 0, 0, 0]);
        await jobs.join();
        // Consumers put each item on `seen` before marking it done: all must be there now.
        expect(await seen.qsize()).toBe(total);
        const counts = new Uint8Array(total);
        for (let i = 0; i < total; i++) {
          const [producer, seq] = await seen.getNowait();
          counts[producer * perProducer + seq]!++;
        }
        expect(counts.every((count) => count === 1)).toBe(true);
        for (let i = 0; i < consumers.length; i++) await jobs.put(null);
        await jobs.join();
        await Promise.all(consumers.map((p) => p.join()));
        expect(consumers.map((p) => p.exitCode)).toEqual([0, 0, 0, 0]);
      },
      LONG,
    );
  });

  describe(`SimpleQueue (${label})`, () => {
    it('carries items from a process, in order', async () => {
      const q = new mp.SimpleQueue<number>();
      expect(await q.empty()).toBe(true);
      const p = new mp.Process({ target: putSimple, args: [q, [1, 2, 3]] });
      p.start();
      expect([await q.get(), await q.get(), await q.get()]).toEqual([1, 2, 3]);
      await p.join();
      expect(await q.empty()).toBe(true);
    });
  });

  describe(`Pipe (${label})`, () => {
    it('carries the seed example from a process, then EOF once the child closed its end', async () => {
      const [parentConn, childConn] = mp.Pipe();
      const p = new mp.Process({ target: sendAll, args: [childConn, [[42, null, 'hello']]] });
      p.start();
      // As in Python, the parent closes its own copy of the child's end: the end closes with its last copy.
      childConn.close();
      expect(await parentConn.recv()).toEqual([42, null, 'hello']);
      await p.join();
      await expect(parentConn.recv()).rejects.toThrow(EOFError);
      expect(await parentConn.poll()).toBe(true);
    });

    it('duplex: both ends send and receive', async () => {
      const [parentConn, childConn] = mp.Pipe<number>();
      const p = new mp.Process({ target: echoDouble, args: [childConn] });
      p.start();
      for (let i = 1; i <= Math.max(10, n(100)); i++) {
        await parentConn.send(i);
        expect(await parentConn.recv()).toBe(i * 2);
      }
      parentConn.close();
      await p.join();
      expect(p.exitCode).toBe(0);
    });

    it('poll(timeout) waits for data, at most timeout ms', async () => {
      const [reader, writer] = mp.Pipe(false);
      expect(await reader.poll()).toBe(false);
      expect(await reader.poll(20)).toBe(false);
      const p = new mp.Process({ target: sendAll, args: [writer, ['late']] });
      p.start();
      expect(await reader.poll(null)).toBe(true);
      expect(await reader.recv()).toBe('late');
      await p.join();
    });

    it('one-way pipes refuse the wrong direction; a closed reader breaks the pipe', async () => {
      const [reader, writer] = mp.Pipe(false);
      expect([reader.readable, reader.writable, writer.readable, writer.writable]).toEqual([true, false, false, true]);
      await expect(reader.send(1)).rejects.toThrow(/read-only/);
      await expect(writer.recv()).rejects.toThrow(/write-only/);
      reader.close();
      await expect(writer.send(1)).rejects.toThrow(BrokenPipeError);
      await expect(reader.recv()).rejects.toThrow(/closed/);
    });
  });
}
