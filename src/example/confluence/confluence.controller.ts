import { Controller, Get, Header, Query } from '@nestjs/common';
import { ConnectAuth, ConnectClient, ConnectContext, type ConnectRequestContext } from 'atlassian-connect-nest';
import { ProductRoutesController } from '../common/product-routes.controller.js';

interface ConfluenceSpace {
  key: string;
  name: string;
}

/** Routes of the Confluence app, under its baseUrl path `/confluence`. */
@Controller('confluence')
export class ConfluenceController extends ProductRoutesController {
  constructor(private readonly client: ConnectClient) {
    super();
  }

  /** The static content macro: Confluence fetches it server-side with a request-bound token. */
  @Get('macros/hello')
  @ConnectAuth({ page: true })
  @Header('content-type', 'text/html; charset=utf-8')
  macro(@ConnectContext() context: ConnectRequestContext, @Query('pageId') pageId: string | undefined) {
    return this.macroPage(context, pageId);
  }

  /** Calls Confluence as the app: every space, across pages (the client follows `_links.next`). */
  @Get('api/app-view')
  @ConnectAuth()
  async appView(@ConnectContext() context: ConnectRequestContext) {
    const spaces: string[] = [];
    for await (const space of this.client.asApp(context).paginate<ConfluenceSpace>('/rest/api/space')) spaces.push(space.key);
    return { spaces };
  }

  /** Calls Confluence as the user who made the request (needs the ACT_AS_USER scope). */
  @Get('api/user-view')
  @ConnectAuth()
  async userView(@ConnectContext() context: ConnectRequestContext) {
    if (context.accountId === undefined) return { accountId: null };
    const user = await this.client.asUser(context, context.accountId).get<{ accountId: string }>('/rest/api/user/current');
    return { accountId: user.accountId };
  }
}
