import { InjectDataSource } from '@nestjs/typeorm';

/** The name of the TypeORM DataSource the framework owns, registered through `@nestjs/typeorm`. */
export const CONNECT_DATA_SOURCE = 'atlassian-connect';

/**
 * Injects the framework's TypeORM DataSource (the tenant tables, on `database.url` or the embedded
 * engine): for SQL in the same database, or in the transaction of a lifecycle hook's `transaction`.
 *
 * @example
 * ```ts
 * constructor(@InjectConnectDataSource() private readonly dataSource: DataSource) {}
 * ```
 */
export const InjectConnectDataSource = (): ParameterDecorator & PropertyDecorator => InjectDataSource(CONNECT_DATA_SOURCE);
