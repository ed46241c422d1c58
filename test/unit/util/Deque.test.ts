import { describe, expect, it } from 'vitest';
import { Deque } from '../../../lib/util/Deque.js';

describe('Deque', () => {
  it('is FIFO with push/shift and LIFO at the front with unshift, across growth', () => {
    const queue = new Deque<number>();
    for (let i = 0; i < 100; i++) queue.push(i);
    queue.unshift(-1);
    expect(queue.length).toBe(101);
    expect(queue.peek()).toBe(-1);
    const out: number[] = [];
    for (let i = 0; i < 50; i++) out.push(queue.shift()!);
    for (let i = 100; i < 150; i++) queue.push(i);
    expect(out).toEqual([-1, ...Array.from({ length: 49 }, (_, i) => i)]);
    expect(queue.drain()).toEqual(Array.from({ length: 101 }, (_, i) => i + 49));
    expect(queue.shift()).toBeUndefined();
    expect(queue.length).toBe(0);
  });
});
