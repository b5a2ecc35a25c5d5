/**
 * The transport's peer set, kept by the host: the node's peers (`peersOf`: every member of the
 * latest configuration but the node), plus the non-members this node must answer (a node added to
 * the cluster hears from the leader, and replies, before it knows the configuration; a snapshot
 * chunk is acknowledged to whoever sent it). `transport.setPeers` is called only when the set
 * changes; the addresses come from the host's `peerAddresses` (an id without one is left out, and
 * sends to it are refused by the transport). The non-members added for answers are forgotten
 * whenever the configuration changes (one still needed is added again by its next answer), so that
 * a node removed from the configuration leaves the transport's peer set.
 *
 * This module imports only the host's own modules and runs in browsers.
 */
import type { PeerAddress, Transport } from './transport.js';

/** The transport's peer set (see the module comment). */
export class TransportPeers {
  private current = new Set<string>();
  private members: readonly string[] = [];
  private readonly extra = new Set<string>();

  constructor(
    private readonly transport: Transport,
    private readonly address: (id: string) => PeerAddress | undefined,
  ) {}

  /** The node's peers changed to `members`. */
  setMembers(members: readonly string[]): void {
    this.members = members;
    this.extra.clear();
    this.apply();
  }

  /** Make sure the transport can send to `id` (a non-member this node answers). */
  ensure(id: string): void {
    if (this.current.has(id)) return;
    this.extra.add(id);
    this.apply();
  }

  private apply(): void {
    const wanted = new Set(this.members);
    for (const id of this.extra) wanted.add(id);
    const current = this.current;
    if (wanted.size === current.size && [...wanted].every((id) => current.has(id))) return;
    const record: Record<string, PeerAddress> = {};
    for (const id of wanted) {
      const address = this.address(id);
      if (address !== undefined) record[id] = address;
    }
    try {
      this.transport.setPeers(record);
      this.current = wanted;
    } catch {
      // An invalid address: the previous peer set stays (sends to the new peers are refused).
    }
  }
}
