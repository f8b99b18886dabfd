import { Controller, Get } from '@nestjs/common';
import { ConnectAuth, ConnectClient, ConnectContext, type ConnectRequestContext } from 'atlassian-connect-nest';
import { ProductRoutesController } from '../common/product-routes.controller.js';

interface JiraUser {
  accountId: string;
  displayName?: string;
}

interface JiraProject {
  key: string;
  name: string;
}

/** Routes of the Jira app, under its baseUrl path `/jira`. */
@Controller('jira')
export class JiraController extends ProductRoutesController {
  constructor(private readonly client: ConnectClient) {
    super();
  }

  /** Calls Jira as the app: who the app's own user is, and every project it can see (all pages). */
  @Get('api/app-view')
  @ConnectAuth()
  async appView(@ConnectContext() context: ConnectRequestContext) {
    const jira = this.client.asApp(context);
    const myself = await jira.get<JiraUser>('/rest/api/3/myself');
    const projects: string[] = [];
    for await (const project of jira.paginate<JiraProject>('/rest/api/3/project/search', { query: { maxResults: 50 } })) projects.push(project.key);
    return { accountId: myself.accountId, projects };
  }

  /** Calls Jira as the user who made the request (needs the ACT_AS_USER scope). */
  @Get('api/user-view')
  @ConnectAuth()
  async userView(@ConnectContext() context: ConnectRequestContext) {
    if (context.accountId === undefined) return { accountId: null };
    const myself = await this.client.asUser(context, context.accountId).get<JiraUser>('/rest/api/3/myself');
    return { accountId: myself.accountId };
  }
}
