import { type BugLookup, loadState, serializeState, type InflightWrite, type IssueLink, type SinkState, type Sighting } from '../../state/sink-state.js';
import { StateWriter } from '../../state/state-writer.js';

const DELIVERED_KEPT_MS = 180 * 24 * 3600 * 1000;

/**
 * The durable side of delivery: sightings wait here, saved, until GitLab acknowledged the request that
 * carried them. A write under way is recorded (with its delivery id) and saved before it is sent; only
 * the ids a successful write carried are acknowledged.
 */
export class Outbox {
  private readonly known: Set<string>;

  private constructor(
    readonly state: SinkState,
    private readonly writer: StateWriter,
    private readonly now: () => Date,
  ) {
    this.known = new Set(state.pending.map((s) => s.id));
  }

  static async open(file: string, project: string, now: () => Date): Promise<Outbox> {
    const state = await loadState(file, project);
    return new Outbox(state, new StateWriter(file, () => serializeState(state)), now);
  }

  /** False when the occurrence is pending or delivered already. */
  accept(sighting: Sighting): boolean {
    if (this.known.has(sighting.id) || this.state.delivered[sighting.id]) return false;
    this.known.add(sighting.id);
    this.state.pending.push(sighting);
    return true;
  }

  get pendingCount(): number {
    return this.state.pending.length;
  }

  /**
   * Pending sightings by fingerprint, oldest first, without those GitLab already has, each group with where it
   * belongs (its sightings' lookups together: one key can have several earlier keys, one per earlier split).
   */
  pendingByBug(): Array<{ bug: BugLookup; sightings: Sighting[] }> {
    const groups = new Map<string, { bug: BugLookup; sightings: Sighting[] }>();
    for (const sighting of this.state.pending) {
      if (this.state.delivered[sighting.id]) continue;
      const group = groups.get(sighting.fingerprint);
      if (group) {
        group.sightings.push(sighting);
        group.bug = mergeLookups(group.bug, sighting);
      } else groups.set(sighting.fingerprint, { bug: lookupOf(sighting), sightings: [sighting] });
    }
    return [...groups.values()];
  }

  /**
   * A sighting GitLab has already, seen again: if no issue is known to answer to its key (an upgrade changed the
   * key), the next delivery finds its issue and records the key there.
   */
  rememberKey(sighting: Sighting): void {
    if (this.linkOf(sighting.fingerprint, [])) return;
    const index = this.state.unlinked.findIndex((bug) => bug.fingerprint === sighting.fingerprint);
    if (index === -1) this.state.unlinked.push(lookupOf(sighting));
    else this.state.unlinked[index] = mergeLookups(this.state.unlinked[index]!, sighting);
  }

  /** Remembered keys whose bug has nothing pending: delivered alone, to record the key. */
  unlinkedWithoutPending(): BugLookup[] {
    const pending = new Set(this.state.pending.map((s) => s.fingerprint));
    return this.state.unlinked.filter((bug) => !pending.has(bug.fingerprint));
  }

  forgetUnlinked(fingerprint: string): void {
    this.state.unlinked = this.state.unlinked.filter((bug) => bug.fingerprint !== fingerprint);
  }

  get inflight(): InflightWrite | null {
    return this.state.inflight;
  }

  /** Records a write about to be sent (or sent again) and saves it before the request leaves. */
  async beginWrite(write: InflightWrite): Promise<void> {
    this.state.inflight = write;
    await this.writer.save();
  }

  /** The write under way is done (or never happened): the ids it carried, if any, are delivered. */
  acknowledge(ids: string[]): void {
    this.state.inflight = null;
    this.markDelivered(ids);
  }

  /** Ids GitLab holds already (found in its issues and notes): never sent again. */
  markDelivered(ids: Iterable<string>): void {
    const at = this.now().toISOString();
    const done = new Set(ids);
    if (done.size === 0) return;
    for (const id of done) this.state.delivered[id] ??= at;
    this.state.pending = this.state.pending.filter((s) => !done.has(s.id));
    for (const id of done) this.known.delete(id);
  }

  /** The issue this box knows for the key, or else for one of the keys earlier releases gave the bug. */
  linkOf(fingerprint: string, earlierKeys: string[]): IssueLink | undefined {
    for (const key of [fingerprint, ...earlierKeys]) if (this.state.issues[key]) return this.state.issues[key];
    return undefined;
  }

  /** Links the key to the issue; its comment window goes on from what the earlier keys' link knew of that issue. */
  setLink(fingerprint: string, iid: number, webUrl: string, commented: boolean, earlierKeys: string[] = []): void {
    const previous = this.linkOf(fingerprint, earlierKeys);
    const lastCommentAt = commented ? this.now().toISOString() : previous?.iid === iid ? previous.lastCommentAt : null;
    this.state.issues[fingerprint] = { iid, webUrl, lastCommentAt };
  }

  addSettling(bug: Pick<BugLookup, 'fingerprint' | 'keys'>, iid: number): void {
    if (!this.state.settling.some((s) => s.iid === iid)) this.state.settling.push({ fingerprint: bug.fingerprint, keys: bug.keys, iid });
  }

  removeSettling(iid: number): void {
    this.state.settling = this.state.settling.filter((s) => s.iid !== iid);
  }

  save(): Promise<void> {
    return this.writer.save();
  }

  /** The last save: nothing is written after it. */
  close(): Promise<void> {
    this.prune();
    return this.writer.close();
  }

  prune(): void {
    const oldest = this.now().getTime() - DELIVERED_KEPT_MS;
    for (const [id, at] of Object.entries(this.state.delivered)) if (Date.parse(at) < oldest) delete this.state.delivered[id];
  }
}

function lookupOf(sighting: BugLookup): BugLookup {
  const { fingerprint, kind, keys, sideKeys, formerShared } = sighting;
  return { fingerprint, kind, keys: [...keys], sideKeys: [...sideKeys], formerShared: [...formerShared] };
}

function mergeLookups(bug: BugLookup, more: BugLookup): BugLookup {
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return { ...bug, keys: union(bug.keys, more.keys), sideKeys: union(bug.sideKeys, more.sideKeys), formerShared: union(bug.formerShared, more.formerShared) };
}
