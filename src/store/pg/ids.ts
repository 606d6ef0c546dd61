// Ids handed out at once from blocks reserved on the `shaobing_ids` sequence (INCREMENT BY ID_BLOCK): one
// nextval reserves a block of ID_BLOCK ids for this instance. A spare block is fetched ahead, so a unit never
// waits; only if both are used up before the spare arrives (ID_BLOCK ids within one round trip) is a unit refused
// with a transient error.
import type pg from 'pg';
import { ID_BLOCK } from './migrations.js';
import { StoreUnavailableError } from './unit.js';

export class IdBlocks {
  private next = 0;
  private end = 0;
  private spare: number | undefined;
  private fetching: Promise<void> | undefined;

  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  async start(): Promise<void> {
    const [a, b] = await Promise.all([this.reserve(), this.reserve()]);
    this.next = a;
    this.end = a + ID_BLOCK;
    this.spare = b;
  }

  take(): number {
    if (this.next >= this.end) {
      if (this.spare === undefined) {
        this.refill();
        throw new StoreUnavailableError('no ids reserved yet (the next block is on its way)');
      }
      this.next = this.spare;
      this.end = this.spare + ID_BLOCK;
      this.spare = undefined;
      this.refill();
    }
    return this.next++;
  }

  private refill(): void {
    this.fetching ??= this.reserve()
      .then((s) => void (this.spare = s))
      .catch(() => {})
      .finally(() => (this.fetching = undefined));
  }

  private async reserve(): Promise<number> {
    const { rows } = await this.pool.query<{ v: string }>(`SELECT nextval('shaobing_ids') AS v`);
    return Number(rows[0].v);
  }
}
