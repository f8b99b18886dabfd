import { Get, Header, Res } from '@nestjs/common';
import { ConnectAuth, ConnectContext, type ConnectRequestContext } from 'atlassian-connect-nest';
import { frameAncestors, helloPage } from './hello-page.js';

export interface HeaderSettable {
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

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

  /** The general page module: the product loads it in an iframe with `?jwt=`. */
  @Get('pages/hello')
  @ConnectAuth()
  @Header('content-type', 'text/html; charset=utf-8')
  page(@ConnectContext() context: ConnectRequestContext, @Res({ passthrough: true }) response: HeaderSettable) {
    setHeader(response, 'content-security-policy', frameAncestors(context));
    return helloPage(context, `Hello from ${context.app.product === 'jira' ? 'Jira' : 'Confluence'}`);
  }

  protected macroPage(context: ConnectRequestContext, pageId: string | undefined, response: HeaderSettable): string {
    setHeader(response, 'content-security-policy', frameAncestors(context));
    return helloPage(context, `Hello macro on page ${pageId ?? 'unknown'}`);
  }
}

function setHeader(response: HeaderSettable, name: string, value: string): void {
  if (typeof response.setHeader === 'function') response.setHeader(name, value);
  else response.header?.(name, value);
}

