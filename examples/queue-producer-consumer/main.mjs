// Producer and Consumer as Process subclasses sharing a Queue. The end-of-stream fix: the producer
// puts a `null` sentinel after its items, so the consumer knows when to stop instead of waiting
// forever on an empty queue.
import { Queue } from "@ipc/queue";
import { isMainProcess, Process } from "@ipc/process";

export class Producer extends Process {
  constructor(queue, count, context) {
    super({ module: import.meta.url, name: "Producer", context });
    this.queue = queue;
    this.count = count;
  }
  async run() {
    for (let i = 1; i <= this.count; i++) await this.queue.put({ id: i, square: i * i });
    await this.queue.put(null); // end of stream
  }
}

export class Consumer extends Process {
  constructor(queue, context) {
    super({ module: import.meta.url, name: "Consumer", context });
    this.queue = queue;
  }
  async run() {
    let total = 0;
    for (;;) {
      const item = await this.queue.get();
      if (item === null) break;
      total += item.square;
      console.log(`${this.name} got item ${item.id}`);
    }
    console.log(`${this.name} done, sum of squares ${total}`);
  }
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";
  const queue = new Queue();
  const producer = new Producer(queue, 5, context);
  const consumer = new Consumer(queue, context);
  producer.start();
  consumer.start();
  await producer.join();
  await consumer.join();
  console.log(`exit codes ${producer.exitCode} ${consumer.exitCode}`);
}
