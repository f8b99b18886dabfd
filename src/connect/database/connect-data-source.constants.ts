/** The name of the TypeORM DataSource the framework owns (use with `@InjectDataSource(CONNECT_DATA_SOURCE)`). */
export const CONNECT_DATA_SOURCE = 'atlassian-connect';
