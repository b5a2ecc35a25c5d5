/**
 * Which links of an in-process network are up: partitions between pairs of nodes and isolated
 * nodes. Shared by the in-process transport (`./memory-transport.ts`) and the Redux network
 * (`raftstep/redux`). Links are directed; `partition` cuts both directions.
 */
export class Links {
  private readonly cuts = new Map<string, Set<string>>();
  private readonly isolated = new Set<string>();

  /** Cut the link between `a` and `b`, both ways. */
  partition(a: string, b: string): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Cut every link to and from `id`. */
  isolate(id: string): void {
    this.isolated.add(id);
  }

  /** Restore every link. */
  heal(): void {
    this.cuts.clear();
    this.isolated.clear();
  }

  /** True when messages from `from` reach `to` (a node always reaches itself). */
  connected(from: string, to: string): boolean {
    if (from === to) return true;
    if (this.isolated.has(from) || this.isolated.has(to)) return false;
    return !(this.cuts.get(from)?.has(to) ?? false);
  }

  /** Record that messages from `from` no longer reach `to`. */
  cutOneWay(from: string, to: string): void {
    let set = this.cuts.get(from);
    if (set === undefined) {
      set = new Set();
      this.cuts.set(from, set);
    }
    set.add(to);
  }
}
