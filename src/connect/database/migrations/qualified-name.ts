import type { QueryRunner } from 'typeorm';

/** `schema.name` quoted, with the DataSource's `schema` option when there is one. */
export function qualified(queryRunner: QueryRunner, name: string): string {
  const { driver, options } = queryRunner.connection;
  const schema = (options as { schema?: string }).schema;
  return schema ? `${driver.escape(schema)}.${driver.escape(name)}` : driver.escape(name);
}
