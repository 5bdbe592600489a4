/**
 * Counter and histogram for the per-request hot path, exposed through a prom-client Registry in
 * the same text format as prom-client's own. prom-client validates and hashes the labels on every
 * inc/observe, even on a child; here a label set is resolved once to a handle that holds its own
 * numbers, so recording a request is a few additions.
 */
import type { Registry } from "prom-client";

type Labels = Readonly<Record<string, string>>;

interface ValuePair {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
}

/** What prom-client's Registry needs of a metric. */
abstract class RegistryMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "histogram",
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  protected abstract values(): ValuePair[];

  abstract reset(): void;

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: "sum" as const,
    };
  }
}

export interface CounterHandle {
  inc(n?: number): void;
}

class CounterCell implements CounterHandle {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class FastCounter extends RegistryMetric {
  private readonly cells = new Map<string, CounterCell>();

  constructor(name: string, help: string, registry: Registry) {
    super(name, help, "counter", registry);
  }

  /** The handle of one label set; `key` identifies it (callers build it from bounded parts). */
  handle(key: string, labels: () => Labels): CounterHandle {
    let cell = this.cells.get(key);
    if (!cell) {
      cell = new CounterCell(labels());
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected values(): ValuePair[] {
    return [...this.cells.values()].map((c) => ({ labels: { ...c.labels }, value: c.value }));
  }

  reset(): void {
    this.cells.clear();
  }
}

export interface HistogramHandle {
  observe(value: number): void;
}

class HistogramCell implements HistogramHandle {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram extends RegistryMetric {
  private readonly cells = new Map<string, HistogramCell>();

  constructor(
    name: string,
    help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, "histogram", registry);
  }

  handle(key: string, labels: () => Labels): HistogramHandle {
    let cell = this.cells.get(key);
    if (!cell) {
      cell = new HistogramCell(labels(), this.buckets);
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected values(): ValuePair[] {
    const out: ValuePair[] = [];
    for (const c of this.cells.values()) {
      let acc = 0;
      const bucket = `${this.name}_bucket`;
      this.buckets.forEach((le, i) => {
        acc += c.counts[i];
        out.push({ labels: { le }, sharedLabels: c.labels, value: acc, metricName: bucket });
      });
      out.push({
        labels: { le: "+Inf" },
        sharedLabels: c.labels,
        value: c.count,
        metricName: bucket,
      });
      out.push({
        labels: {},
        sharedLabels: c.labels,
        value: c.sum,
        metricName: `${this.name}_sum`,
      });
      out.push({
        labels: {},
        sharedLabels: c.labels,
        value: c.count,
        metricName: `${this.name}_count`,
      });
    }
    return out;
  }

  reset(): void {
    this.cells.clear();
  }
}
