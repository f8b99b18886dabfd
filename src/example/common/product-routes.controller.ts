import { Get, Header } from '@nestjs/common';
import { ConnectAuth, ConnectContext, type ConnectRequestContext } from 'atlassian-connect-nest';
import { helloPage } from './hello-page.js';

/** What the Jira and Confluence controllers share; each subclass fixes the path prefix. */
export abstract class ProductRoutesController {
  /** A request-bound token is required (the product signs the exact URL). */
  @Get('api/whoami')
  @ConnectAuth()
  whoami(@ConnectContext() context: ConnectRequestContext) {
    return { clientKey: context.clientKey, accountId: context.accountId ?? null, productType: context.tenant.productType };
  }

  /** Also accepts context tokens from `AP.context.getToken()` in the app's own front end. */
  @Get('api/context/whoami')
  @ConnectAuth({ qsh: 'context' })
  contextWhoami(@ConnectContext() context: ConnectRequestContext) {
    return { clientKey: context.clientKey, accountId: context.accountId ?? null, productType: context.tenant.productType };
  }

  /**
   * The general page module: the product loads it in an iframe with `?jwt=`. `page: true` makes the
   * framework send the tenant's `frame-ancestors` policy (and HSTS over https).
   */
  @Get('pages/hello')
  @ConnectAuth({ page: true })
  @Header('content-type', 'text/html; charset=utf-8')
  page(@ConnectContext() context: ConnectRequestContext) {
    return helloPage(context, `Hello from ${context.app.product === 'jira' ? 'Jira' : 'Confluence'}`);
  }

  /** The body of a macro; its route must use `@ConnectAuth({ page: true })` for the framing headers. */
  protected macroPage(context: ConnectRequestContext, pageId: string | undefined): string {
    return helloPage(context, `Hello macro on page ${pageId ?? 'unknown'}`);
  }
}
