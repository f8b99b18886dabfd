/** The example's two Connect app keys. */
export const JIRA_APP_KEY = 'com.example.connect-nest.jira';
export const CONFLUENCE_APP_KEY = 'com.example.connect-nest.confluence';
