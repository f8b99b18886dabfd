import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The `connect_forge_event` row: one delivery of a Forge event or trigger, claimed by the instance that
 * runs its handlers. Created by the `CreateConnectForgeEvent…` migration; the framework writes it with
 * SQL (`ForgeEventLedger`), this class only describes it to TypeORM.
 */
@Entity({ name: 'connect_forge_event' })
@Index('connect_forge_event_received_at_idx', ['receivedAt'])
export class ConnectForgeEventEntity {
  @PrimaryColumn({ name: 'app_key', type: 'varchar', length: 255, primaryKeyConstraintName: 'connect_forge_event_pkey' })
  appKey!: string;

  /** SHA-256 (base64url) of the event's kind, name, installation and payload without `retryContext`. */
  @PrimaryColumn({ name: 'dedupe_key', type: 'varchar', length: 64, primaryKeyConstraintName: 'connect_forge_event_pkey' })
  dedupeKey!: string;

  /** `event`, `scheduled` or `pre-uninstall`. */
  @Column({ name: 'kind', type: 'varchar', length: 16 })
  kind!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 255, nullable: true })
  eventType!: string | null;

  @Column({ name: 'installation_id', type: 'varchar', length: 255 })
  installationId!: string;

  /** `running`, `done` or `failed`. */
  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'attempts', type: 'integer', default: 1 })
  attempts!: number;

  /** The handlers (`Class.method`) that finished: a redelivery after a failure runs only the others. */
  @Column({ name: 'done_handlers', type: 'jsonb', default: () => "'[]'::jsonb" })
  doneHandlers!: string[];

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;

  @Column({ name: 'claimed_at', type: 'timestamptz', default: () => 'now()' })
  claimedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
